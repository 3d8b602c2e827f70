"""Campaigns end to end: a segment's contacts get the mail through the real queue and worker,
unsubscribing (link or RFC 8058 one-click POST) keeps them out of every later campaign,
contacts without consent are never mailed, placeholders are inert and the tracked links lead
only where the campaign pointed."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.models import AuditEvent
from crm.core.tests.waiting import wait_until
from crm.core.tokens import token_hash
from crm.core.workflow import SYSTEM
from customers.models import Contact
from customers.tests.factories import CustomerFactory
from marketing import services
from marketing.choices import CampaignStatus, RecipientStatus
from marketing.models import Campaign, Recipient, Suppression
from marketing.tests.factories import audience, campaign_for, one_contact, segment_for

UNSUBSCRIBE = re.compile(r"https?://\S+/marketing/u/([\w-]+)/")
TRACKED = re.compile(r"https?://\S+/marketing/c/([\w-]+)/(\d+)/")


def send_now(campaign, manager):
    services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    return Campaign.objects.get(pk=campaign.pk)


def messages_to(address):
    return [message for message in mail.outbox if message.to == [address]]


@pytest.mark.django_db(transaction=True)
def test_a_segment_of_a_thousand_contacts_is_mailed_through_the_worker(rep, manager, task_worker):
    audience(rep, 1000)
    segment = segment_for(rep, statuses=["active"])
    campaign = campaign_for(rep, segment)
    mail.outbox.clear()

    send_now(campaign, manager)

    wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT, timeout=240)
    assert Recipient.objects.filter(campaign=campaign, status=RecipientStatus.SENT).count() == 1000
    campaign_mail = [
        message for message in mail.outbox if message.extra_headers.get("X-CRM-Campaign") == str(campaign.pk)
    ]
    assert len(campaign_mail) == 1000
    assert len({message.to[0] for message in campaign_mail}) == 1000
    message = campaign_mail[0]
    recipient = Recipient.objects.get(campaign=campaign, email=message.to[0])
    assert message.subject == f"News for {recipient.customer.name}"
    assert message.body.startswith(f"Dear {recipient.name},")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = UNSUBSCRIBE.search(message.body).group(0)
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert AuditEvent.objects.filter(action="campaign.sent", target_id=str(campaign.pk)).count() == 1


@pytest.fixture
def sent_to_two(rep, manager, django_capture_on_commit_callbacks):
    """A campaign sent (inline) to two contacts of rep's: Li and Wang."""
    customer = CustomerFactory(owner=rep, name="Hangzhou Tea Co")
    li = one_contact(customer, name="Li Wei", email="li.wei@example.com")
    wang = one_contact(CustomerFactory(owner=rep), name="Wang Fang", email="wang.fang@example.com")
    segment = segment_for(rep)
    campaign = campaign_for(rep, segment)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_now(campaign, manager)
    return campaign, li, wang, segment


def token_of(message):
    return UNSUBSCRIBE.search(message.body).group(1)


@pytest.mark.django_db
def test_inline_sending_reaches_each_contact_once_and_finishes(sent_to_two):
    campaign, li, wang, _segment = sent_to_two
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert [len(messages_to(li.email)), len(messages_to(wang.email))] == [1, 1]
    assert set(campaign.recipients.values_list("status", flat=True)) == {RecipientStatus.SENT}
    # Only the hash of each token is kept.
    token = token_of(messages_to(li.email)[0])
    assert not Recipient.objects.filter(token_hash=token).exists()
    assert Recipient.objects.get(token_hash=token_hash(token)).email == li.email


@pytest.mark.django_db
def test_the_unsubscribe_link_asks_first_then_the_next_campaign_skips_the_contact(
    client, sent_to_two, rep, manager, django_capture_on_commit_callbacks
):
    campaign, li, wang, segment = sent_to_two
    url = reverse("marketing:unsubscribe", args=[token_of(messages_to(li.email)[0])])

    page = client.get(url)  # a link scanner following the link unsubscribes nobody
    assert page.status_code == 200 and b"unsubscribe-confirm" in page.content
    assert not Suppression.objects.exists()

    done = client.post(url)  # the confirm button: no login, no CSRF token needed
    assert done.status_code == 200 and b'data-testid="unsubscribed"' in done.content
    assert Suppression.objects.get().email == li.email
    li.refresh_from_db()
    assert li.marketing_consent is False
    assert Recipient.objects.get(campaign=campaign, email=li.email).status == RecipientStatus.UNSUBSCRIBED
    assert AuditEvent.objects.filter(action="contact.marketing_consent_withdrawn", target_id=str(li.pk)).exists()

    mail.outbox.clear()
    second = campaign_for(rep, segment, name="Summer")
    with django_capture_on_commit_callbacks(execute=True):
        send_now(second, manager)
    assert messages_to(li.email) == []
    assert len(messages_to(wang.email)) == 1
    assert not second.recipients.filter(email=li.email).exists()


@pytest.mark.django_db
def test_the_one_click_post_of_rfc_8058_unsubscribes_without_csrf(sent_to_two):
    from django.test import Client

    campaign, li, _wang, _segment = sent_to_two
    message = messages_to(li.email)[0]
    target = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = target.split("://", 1)[1].split("/", 1)[1]
    strict = Client(enforce_csrf_checks=True)

    response = strict.post("/" + path, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert Suppression.objects.filter(email=li.email).exists()
    event = AuditEvent.objects.get(action="campaign.unsubscribed")
    assert event.extra["one_click"] is True
    # A second POST changes nothing more.
    strict.post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert AuditEvent.objects.filter(action="campaign.unsubscribed").count() == 1


@pytest.mark.django_db
def test_an_unknown_token_is_gone(client):
    assert client.get(reverse("marketing:unsubscribe", args=["nope"])).status_code == 410
    assert client.post(reverse("marketing:unsubscribe", args=["nope"])).status_code == 410
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_contacts_without_consent_or_address_are_never_mailed(rep, manager, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=rep)
    yes = one_contact(customer, email="yes@example.com")
    one_contact(customer, email="no@example.com", marketing_consent=False)
    one_contact(CustomerFactory(owner=rep), email="")
    campaign = campaign_for(rep, segment_for(rep))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        send_now(campaign, manager)

    assert [message.to for message in mail.outbox] == [[yes.email]]
    assert list(campaign.recipients.values_list("email", flat=True)) == [yes.email]


@pytest.mark.django_db
def test_consent_withdrawn_after_the_start_is_respected_at_hand_over(rep, manager, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=rep)
    late = one_contact(customer, email="late@example.com")
    campaign = campaign_for(rep, segment_for(rep))
    services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    services.campaign_start(actor=SYSTEM, campaign_id=campaign.pk)  # recipients fixed, nothing handed yet
    Contact.objects.filter(pk=late.pk).update(marketing_consent=False)
    mail.outbox.clear()

    services.campaign_batch_hand(campaign_id=campaign.pk)

    assert mail.outbox == []
    assert campaign.recipients.get().status == RecipientStatus.UNSUBSCRIBED


@pytest.mark.django_db
def test_a_nobody_segment_cannot_be_scheduled(rep, manager):
    one_contact(CustomerFactory(owner=rep), marketing_consent=False)
    campaign = campaign_for(rep, segment_for(rep))
    with pytest.raises(DomainError, match="Nobody"):
        services.campaign_schedule(actor=manager, campaign_id=campaign.pk)


@pytest.mark.django_db
def test_placeholder_injection_is_inert(rep, manager, django_capture_on_commit_callbacks):
    hostile = "{{ customer.name }}{% load static %}{{ settings.SECRET_KEY }}"
    customer = CustomerFactory(owner=rep, name="{% debug %}{{ request }}")
    contact = one_contact(customer, name=hostile, title="{{ contact.name }}", email="evil@example.com")
    campaign = campaign_for(
        rep,
        segment_for(rep),
        subject_en="Hi {{ contact.name }}\nBcc: victim@example.com",
        body_en="{{ contact.name }} / {{ contact.title }} / {{ customer.name }} / {% now 'Y' %} / {# c #}",
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        send_now(campaign, manager)

    (message,) = messages_to(contact.email)
    first_line = message.body.splitlines()[0]
    assert (
        first_line
        == f"{hostile} / {{{{ contact.name }}}} / {{% debug %}}{{{{ request }}}} / {{% now 'Y' %}} / {{# c #}}"
    )
    assert "\n" not in message.subject and message.subject.startswith("Hi {{ customer.name }}")
    assert "Bcc" not in message.extra_headers


@pytest.mark.django_db
def test_an_unknown_placeholder_is_refused_by_the_field(rep):
    segment = segment_for(rep)
    with pytest.raises(DomainError) as refused:
        campaign_for(rep, segment, body_en="Hello {{ contact.password }}")
    assert refused.value.field == "body_en"
    assert "contact.password" in refused.value.message


@pytest.mark.django_db
def test_the_tracked_link_counts_and_redirects_only_to_the_campaigns_own_links(client, sent_to_two):
    campaign, li, _wang, _segment = sent_to_two
    body = messages_to(li.email)[0].body
    assert "https://shop.example.com/spring" not in body  # every link of the body is tracked
    token, index = TRACKED.search(body).groups()

    response = client.get(reverse("marketing:click", args=[token, int(index)]))

    assert response.status_code == 302 and response["Location"] == "https://shop.example.com/spring"
    recipient = Recipient.objects.get(campaign=campaign, email=li.email)
    assert recipient.click_count == 1 and recipient.clicked_at is not None
    # Another position, another token, or a URL of one's own: no redirect anywhere.
    assert client.get(reverse("marketing:click", args=[token, 1])).status_code == 404
    assert client.get(reverse("marketing:click", args=["forged", 0])).status_code == 404
    assert client.get(reverse("marketing:click", args=[token, 0]) + "?next=https://evil.example.com").status_code == 302
    assert (
        client.get(reverse("marketing:click", args=[token, 0]) + "?url=https://evil.example.com")["Location"]
        == "https://shop.example.com/spring"
    )


@pytest.mark.django_db
def test_a_link_inside_a_contacts_name_is_not_tracked(rep, manager, django_capture_on_commit_callbacks):
    contact = one_contact(CustomerFactory(owner=rep), name="https://evil.example.com", email="n@example.com")
    campaign = campaign_for(rep, segment_for(rep))
    with django_capture_on_commit_callbacks(execute=True):
        send_now(campaign, manager)
    body = messages_to(contact.email)[0].body
    assert body.startswith("Dear https://evil.example.com,")
    assert Campaign.objects.get(pk=campaign.pk).links == ["https://shop.example.com/spring"]


@pytest.mark.django_db
def test_each_contact_gets_their_language(rep, manager, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=rep, name="杭州茶业")
    zh = one_contact(customer, name="李伟", email="li@example.com", language="zh-hans")
    en = one_contact(CustomerFactory(owner=rep), name="Ann", email="ann@example.com", language="en")
    campaign = campaign_for(rep, segment_for(rep))
    with django_capture_on_commit_callbacks(execute=True):
        send_now(campaign, manager)
    chinese = messages_to(zh.email)[0]
    assert chinese.subject == "杭州茶业，春季新品"
    assert chinese.body.startswith("李伟，您好！")
    assert "退订" in chinese.body  # the footer in the contact's language
    english = messages_to(en.email)[0]
    assert "Unsubscribe" in english.body


@pytest.mark.django_db
def test_test_send_goes_to_yourself_only(rep, django_capture_on_commit_callbacks):
    contact = one_contact(CustomerFactory(owner=rep, name="Tea Co"), name="Li", email="li@example.com")
    campaign = campaign_for(rep, segment_for(rep))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_test_send(actor=rep, campaign_id=campaign.pk)
    (message,) = mail.outbox
    assert message.to == [rep.email]
    assert message.subject == "[Test] News for Tea Co"
    assert message.body.startswith(f"Dear {contact.name},")
    assert campaign.recipients.count() == 0


@pytest.mark.django_db
def test_the_steps_follow_the_table(rep, manager):
    one_contact(CustomerFactory(owner=rep))
    campaign = campaign_for(rep, segment_for(rep))
    with pytest.raises(TransitionNotAllowed):
        services.campaign_schedule(actor=rep, campaign_id=campaign.pk)  # a rep drafts; a manager sends
    services.campaign_schedule(actor=manager, campaign_id=campaign.pk, send_at=timezone.now().replace(year=2099))
    with pytest.raises(DomainError):
        services.campaign_update(actor=rep, campaign_id=campaign.pk, name="Changed")
    services.campaign_unschedule(actor=manager, campaign_id=campaign.pk)
    services.campaign_cancel(actor=manager, campaign_id=campaign.pk, reason="Wrong season")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert list(
        AuditEvent.objects.filter(target_id=str(campaign.pk), action__startswith="campaign.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["campaign.created", "campaign.scheduled", "campaign.unscheduled", "campaign.cancelled"]
    with pytest.raises(TransitionNotAllowed):
        services.campaign_start(actor=SYSTEM, campaign_id=campaign.pk)


@pytest.mark.django_db
def test_a_campaign_scheduled_for_later_starts_with_the_command(rep, manager, django_capture_on_commit_callbacks):
    import datetime

    from django.core.management import call_command

    one_contact(CustomerFactory(owner=rep), email="later@example.com")
    campaign = campaign_for(rep, segment_for(rep))
    services.campaign_schedule(
        actor=manager, campaign_id=campaign.pk, send_at=timezone.now() + datetime.timedelta(hours=1)
    )
    call_command("send_due_campaigns")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now() - datetime.timedelta(minutes=1))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_due_campaigns")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT
    assert len(messages_to("later@example.com")) == 1
