"""Files sent with the public inquiry form and with an answer on the status page: kept with
the ticket within the limits the mail intake applies, shown to agents; a file beyond them is
an error by the field that keeps everything else the customer typed."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.core.models import AuditEvent
from service.mail_models import InboundMail, TicketAttachment
from service.models import Ticket
from service.services import ticket_reply_add, ticket_start
from service.tests.mail_helpers import desk_customer, ticket_for
from service.tests.test_public import FORM, filled, link_in, path_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf(name="delivery-note.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def contacts(rep):
    return desk_customer(rep)


def test_a_known_contacts_files_are_kept_with_the_ticket_and_shown_to_its_agent(client, contacts, agent):
    photo = SimpleUploadedFile("boxes.png", b"\x89PNG\r\n\x1a\n" + b"0" * 2000, content_type="image/png")
    response = client.post(FORM, {**filled(), "attachments": [pdf(), photo]})

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    files = list(TicketAttachment.objects.filter(ticket=ticket).order_by("pk"))
    assert [(file.filename, file.content_type, file.size, file.is_kept) for file in files] == [
        ("delivery-note.pdf", "application/pdf", len(PDF), True),
        ("boxes.png", "image/png", 2008, True),
    ]
    assert bytes(files[0].content) == PDF
    event = AuditEvent.objects.get(action="ticket.files_received")
    assert event.extra == {"kept": ["delivery-note.pdf", "boxes.png"], "refused": []}

    client.force_login(agent)  # an unassigned ticket is in every agent's queue
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'data-testid="ticket-attachments"' in page and "delivery-note.pdf" in page and "boxes.png" in page
    download = client.get(reverse("service:attachment_download", args=[files[0].pk]))
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (SimpleUploadedFile("setup.exe", b"MZ" + b"\0" * 100, content_type="application/x-msdownload"), "type"),
        (pdf("huge.pdf", PDF + b"0" * (100 * 1024)), "larger"),  # the test settings allow 100 KiB
    ],
)
def test_a_refused_file_is_an_error_by_the_field_and_keeps_what_was_typed(client, contacts, upload, says):
    response = client.post(
        FORM, {**filled(description="Two of the ten boxes were crushed; photos attached."), "attachments": [upload]}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["attachments"]
    assert upload.name in errors["attachments"][0] and says in errors["attachments"][0]
    page = response.content.decode()
    assert "Two of the ten boxes were crushed; photos attached." in page
    assert 'value="The delivery came damaged"' in page and 'value="Li Wei"' in page
    assert not Ticket.objects.exists() and not InboundMail.objects.exists()
    assert not TicketAttachment.objects.exists() and not mail.outbox


def test_more_files_than_a_message_may_carry_is_an_error(client, contacts, settings):
    settings.TICKET_ATTACHMENT_MAX_COUNT = 2
    response = client.post(FORM, {**filled(), "attachments": [pdf("a.pdf"), pdf("b.pdf"), pdf("c.pdf")]})

    assert response.status_code == 200 and "attachments" in response.context["form"].errors
    assert "c.pdf" in response.context["form"].errors["attachments"][0]
    assert not Ticket.objects.exists()


def test_the_limits_are_shown_by_the_field(client, contacts):
    page = client.get(FORM).content.decode()
    assert 'type="file"' in page and "multiple" in page and 'enctype="multipart/form-data"' in page
    assert "PDF" in page and "100.0\xa0KB" in page


def test_an_unknown_senders_files_wait_with_the_unsorted_request(client, contacts):
    client.post(FORM, {**filled(email="new.buyer@elsewhere.example.org"), "attachments": [pdf()]})

    inbound = InboundMail.objects.get()
    (file,) = inbound.attachments.all()
    assert (file.filename, file.ticket, file.is_kept) == ("delivery-note.pdf", None, True)


def test_the_status_page_answer_takes_files_and_the_agent_sees_them_with_the_message(
    client, contacts, agent, django_capture_on_commit_callbacks
):
    customer, li, _wang = contacts
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply_add(actor=agent, ticket=ticket, body="Please send us the delivery note.", public=True)
    url = link_in(next(message for message in mail.outbox if message.to == [li.email]).body)
    client.get(path_of(url))
    status = reverse("service:ticket_status")

    refused = client.post(
        status,
        {
            "body": "Here it is.",
            "attachments": [SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")],
        },
    )
    assert refused.status_code == 200 and list(refused.context["form"].errors) == ["attachments"]
    assert "Here it is." in refused.content.decode()
    assert not ticket.entries.filter(body="Here it is.").exists()

    sent = client.post(status, {"body": "Here it is.", "attachments": [pdf()]})
    assert sent.status_code == 302
    entry = ticket.entries.get(body="Here it is.")
    (file,) = TicketAttachment.objects.filter(ticket=ticket)
    assert (file.entry, file.filename, file.is_kept) == (entry, "delivery-note.pdf", True)
    assert "delivery-note.pdf" in client.get(status).content.decode()  # the customer sees what they sent

    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    record = page.split('data-testid="ticket-record"', 1)[1]
    assert "delivery-note.pdf" in record and reverse("service:attachment_download", args=[file.pk]) in record


def test_a_strangers_mail_naming_the_ticket_does_not_show_its_files_to_the_customer(
    client, contacts, agent, django_capture_on_commit_callbacks
):
    from email.message import EmailMessage

    from service.inbound import inbound_mail_receive

    customer, li, _wang = contacts
    ticket = ticket_for(customer, li)
    ticket_start(actor=agent, ticket_id=ticket.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply_add(actor=agent, ticket=ticket, body="Please send us the delivery note.", public=True)
    message = EmailMessage()
    message["From"], message["To"] = "someone@elsewhere.example.org", "service@example.com"
    message["Subject"], message["Message-ID"] = f"Re: [{ticket.number}] hello", "<stranger-1@elsewhere.example.org>"
    message.set_content("Not a contact.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="strangers-note.pdf")
    inbound, _new = inbound_mail_receive(raw=message.as_bytes())
    assert inbound.status == "unsorted"

    client.get(path_of(link_in(next(m for m in mail.outbox if m.to == [li.email]).body)))
    assert "strangers-note.pdf" not in client.get(reverse("service:ticket_status")).content.decode()
