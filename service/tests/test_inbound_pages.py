"""The agent's pages for incoming mail: the list to sort, a message and its three ways out,
attachments, masking and the Chinese pages."""

import pytest
from django.urls import reverse

from crm.core.models import AuditEvent
from service.inbound import inbound_mail_from_form, inbound_mail_receive
from service.mail_models import InboundStatus
from service.mailparse import ParsedAttachment
from service.tests.mail_helpers import FIXTURE_NUMBER, desk_customer, eml, ticket_for

pytestmark = pytest.mark.django_db

PHONE, EMAIL = "13912345678", "zhao.leak@elsewhere.example.org"


@pytest.fixture
def desk(rep):
    customer, li, _wang = desk_customer(rep)
    return customer, ticket_for(customer, li, number=FIXTURE_NUMBER)


@pytest.fixture
def stranger(desk):
    return inbound_mail_from_form(
        from_email=EMAIL,
        from_name="Zhao Lei",
        subject=f"Call me on {PHONE}",
        body=f"Please call {PHONE} or write to {EMAIL}.",
        attachments=(
            ParsedAttachment(filename="parts list.txt", content_type="text/plain", content=b"P-200 x 3"),
            ParsedAttachment(filename="run.exe", content_type="application/x-msdownload", content=b"MZ"),
        ),
    )


def test_the_list_shows_the_mail_to_sort_and_each_outcome_on_its_own_tab(client_for, agent, desk, stranger):
    inbound_mail_receive(raw=eml("reply_plain.eml"))  # threaded at once: not to sort
    client = client_for(agent)

    to_sort = client.get(reverse("service:inbound_mail_list")).content.decode()
    threaded = client.get(reverse("service:inbound_mail_list") + "?status=threaded").content.decode()

    assert to_sort.count('data-testid="inbound-row"') == 1 and "Zhao Lei" in to_sort
    assert threaded.count('data-testid="inbound-row"') == 1 and FIXTURE_NUMBER in threaded
    assert client.get(reverse("service:inbound_mail_list") + "?status=%00bogus").status_code == 200


def test_an_agent_sees_the_senders_details_masked(client_for, agent, stranger):
    client = client_for(agent)
    for url in (reverse("service:inbound_mail_list"), reverse("service:inbound_mail_detail", args=[stranger.pk])):
        page = client.get(url).content.decode()
        assert PHONE not in page and "zhao.leak" not in page, url
        assert "Zhao Lei" in page


def test_a_wrong_ticket_number_is_shown_next_to_its_field(client_for, agent, stranger):
    response = client_for(agent).post(
        reverse("service:inbound_mail_assign", args=[stranger.pk]), {"ticket_number": "TK-2026-999999"}
    )
    assert response.status_code == 200
    assert response.context["assign_form"].errors == {"ticket_number": ["No ticket you may work on has this number."]}
    stranger.refresh_from_db()
    assert stranger.status == InboundStatus.UNSORTED


def test_the_agent_adds_the_message_to_a_ticket_from_its_page(client_for, agent, desk, stranger):
    ticket = desk[1]
    client = client_for(agent)

    response = client.post(reverse("service:inbound_mail_assign", args=[stranger.pk]), {"ticket_number": ticket.number})

    assert response.status_code == 302 and response["Location"] == reverse("service:inbound_mail_list")
    stranger.refresh_from_db()
    assert (stranger.status, stranger.ticket, stranger.handled_by) == (InboundStatus.THREADED, ticket, agent)
    assert set(stranger.attachments.values_list("ticket", flat=True)) == {ticket.pk}
    detail = client.get(reverse("service:inbound_mail_detail", args=[stranger.pk])).content.decode()
    assert "Add to a ticket" not in detail  # sorted: nothing more to do


def test_a_contact_of_another_customer_is_refused_when_opening_a_ticket(client_for, agent, rep, desk, stranger):
    other, other_li, _ = desk_customer(rep, name="Other Co")
    response = client_for(agent).post(
        reverse("service:inbound_mail_ticket_create", args=[stranger.pk]),
        {"customer": desk[0].pk, "contact": other_li.pk, "kind": "inquiry", "priority": "normal"},
    )
    assert response.context["ticket_form"].errors == {"contact": ["Choose a contact of this customer."]}
    assert not AuditEvent.objects.filter(action="inbound_mail.ticket_opened").exists()


def test_a_kept_attachment_downloads_and_a_refused_one_does_not(client_for, agent, rep, stranger):
    kept, refused = stranger.attachments.order_by("pk")
    assert refused.rejected_reason == "This type of file is not accepted."
    client = client_for(agent)

    response = client.get(reverse("service:attachment_download", args=[kept.pk]))

    assert response.status_code == 200 and response.content == b"P-200 x 3"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith('attachment; filename="parts list.txt"')
    assert client.get(reverse("service:attachment_download", args=[refused.pk])).status_code == 404
    assert client_for(rep).get(reverse("service:attachment_download", args=[kept.pk])).status_code == 404


def test_the_pages_speak_chinese(client_for, agent, stranger):
    client = client_for(agent)
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
    detail = client.get(reverse("service:inbound_mail_detail", args=[stranger.pk]), **chinese).content.decode()
    assert "加入工单" in detail and "创建工单" in detail and "丢弃" in detail
    assert "不接受此类型的文件。" in detail
    listed = client.get(reverse("service:inbound_mail_list"), **chinese).content.decode()
    assert "来信" in listed and "由非已知联系人通过公开表单提交。" in listed
    public = client.get(reverse("service:public_ticket_form"), **chinese).content.decode()
    assert "联系客户服务" in public and "您的电子邮箱" in public


def test_the_admin_lists_incoming_mail_and_discards_through_the_service(admin_client, stranger):
    changelist = reverse("admin:service_inboundmail_changelist")
    assert EMAIL in admin_client.get(changelist).content.decode()  # the admin may reveal contact details
    assert admin_client.get(reverse("admin:service_inboundmail_change", args=[stranger.pk])).status_code == 200

    admin_client.post(changelist, {"action": "discard_selected", "_selected_action": [stranger.pk]})

    stranger.refresh_from_db()
    assert stranger.status == InboundStatus.DISCARDED
    assert AuditEvent.objects.filter(action="inbound_mail.discarded", target_id=str(stranger.pk)).exists()
    assert admin_client.get(reverse("admin:service_satisfactionrating_changelist")).status_code == 200
