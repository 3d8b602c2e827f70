"""Mail to the customer is written in the contact's preferred language: the reply (through
the real queue and worker), the acknowledgement with its status link, and the survey."""

import pytest
from django.core import mail
from django.utils import translation

from crm.core.mail import MailStatus
from crm.core.models import OutgoingMail
from crm.core.tests.waiting import wait_until
from customers.services import contact_update
from service.public import ticket_submit_public
from service.services import ticket_reply_add, ticket_resolve, ticket_start
from service.tests.mail_helpers import desk_customer, ticket_for


@pytest.mark.django_db(transaction=True)
def test_a_reply_to_a_chinese_speaking_contact_is_mailed_in_chinese(rep, agent, task_worker):
    customer, li, _wang = desk_customer(rep)
    contact_update(actor=rep, contact_id=li.pk, language="zh-hans")
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    mail.outbox.clear()

    with translation.override("en"):  # the agent works in English
        ticket_reply_add(actor=agent, ticket=ticket, body="请重新启动打印机。", public=True)

    outgoing = OutgoingMail.objects.get(to=[li.email])
    wait_until(lambda: OutgoingMail.objects.get(pk=outgoing.pk).status == MailStatus.SENT)
    (message,) = [message for message in mail.outbox if message.to == [li.email]]
    assert message.body.startswith("请重新启动打印机。")
    assert "请直接回复本邮件，或在您的请求页面回复：" in message.body
    assert "Answer by replying" not in message.body
    assert "/service/status/" in message.body


@pytest.mark.django_db
def test_an_english_contact_gets_english_while_the_agent_works_in_chinese(
    rep, agent, django_capture_on_commit_callbacks
):
    customer, li, _wang = desk_customer(rep)
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    mail.outbox.clear()

    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        ticket_reply_add(actor=agent, ticket=ticket, body="Please restart it.", public=True)

    (message,) = [message for message in mail.outbox if message.to == [li.email]]
    assert "Answer by replying to this e-mail" in message.body


@pytest.mark.django_db
def test_the_acknowledgement_and_the_survey_follow_the_contacts_language(
    rep, agent, django_capture_on_commit_callbacks
):
    customer, li, wang = desk_customer(rep)
    contact_update(actor=rep, contact_id=wang.pk, language="zh-hans")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_submit_public(
            name="Wang Fang", email=wang.email, subject="打印机不工作", description="开机后屏幕不亮。"
        )
    (acknowledgement,) = [message for message in mail.outbox if message.to == [wang.email]]
    assert ticket.number in acknowledgement.subject
    assert acknowledgement.subject == f"[{ticket.number}] 我们已收到您的请求：打印机不工作"
    assert "Thank you for contacting" not in acknowledgement.body

    assert ticket.assignee == agent  # the only agent on duty
    ticket_start(actor=agent, ticket_id=ticket.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_resolve(actor=agent, ticket_id=ticket.pk, comment="Replaced the power board.")
    (survey,) = [message for message in mail.outbox if message.to == [wang.email]]
    assert survey.subject == f"[{ticket.number}] 您对我们的服务满意吗？"
