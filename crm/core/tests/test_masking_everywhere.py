"""Phones and e-mails typed into any free-text field never reach a role that may not see
contact details: every page of the URL matrix, every partial and every export, as each
masked role. Contract terms are shown in full to the roles that approve or sign them.

The data is seeded through the services (so the audit trail holds it too): contact
details go into every text field of customers, contacts, interactions, contracts
(comments, reasons, signer names), orders and products; the contract terms (title, body)
carry their own phone and e-mail, which approvers and the signatory may read.
"""

import datetime
import re
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from contracts import services as contract_services
from contracts import signatures
from contracts.tests.factories import ContractFactory, default_approval_rules, pending_contract
from crm.core.imports import services as import_services
from crm.core.models import Notification
from crm.core.roles import Role
from crm.core.tests.factories import PASSWORD, UserFactory
from crm.core.tests.test_permission_matrix import EXPECTED, URL_ARGS, URL_KWARGS, URL_QUERY
from crm.core.workflow import SYSTEM
from customers import services as customer_services
from marketing import services as marketing_services
from orders import services as order_services
from orders.tests.factories import ProductFactory, line, order_for, quote_line
from service import services as service_services
from service.inbound import inbound_mail_from_form
from service.mailparse import ParsedAttachment
from service.tests.factories import ticket_for

# /health/ is among the pages: it answers 200 only while a worker reports in.
pytestmark = pytest.mark.usefixtures("worker_alive")

PHONES = ["13912345678", "+86 139 1234 5678", "010-6552 8888"]
EMAILS = ["leak.agent@example.com", "13911112222@qq.example.com"]
LEAK = "Call 13912345678, +86 139 1234 5678 or 010-6552 8888; mail leak.agent@example.com or 13911112222@qq.example.com"
SHORT = "13912345678 leak.agent@example.com"

TERMS_PHONES = ["13700001111"]
TERMS_EMAILS = ["terms.secret@example.com"]
TERMS_TITLE = "Supply 13700001111"
TERMS_BODY = (
    "Notices to terms.secret@example.com or 13700001111.\n"
    "From 2026-12-01 until 2026-12-31, price 1,234,567.00 CNY, order SO-2026-000045, "
    "replaces CT-2026-000123, delivery to postcode 100020.\n"
    "1. Scope\n2. Price\n3. Confidentiality\n4. Governing law\n"
)

MASKED_ROLES = ["agent", "service_manager", "finance", "signatory"]
TERMS_ROLES = {"finance", "signatory"}  # they approve or sign: the terms in full


def digits(value):
    return re.sub(r"\D", "", value)


def leaks(body: str, phones, emails) -> list[str]:
    """The seeded values found in a response, in any spelling: as typed, digits only,
    without the country code, or the subscriber number alone."""
    squeezed = re.sub(r"[\s\-().+/]|&nbsp;", "", body)
    found = []
    for phone in phones:
        number = digits(phone)
        national = number[2:] if number.startswith("86") else number
        forms = {number, national, national.lstrip("0"), number[-8:]}
        if phone in body or any(form in squeezed for form in forms):
            found.append(phone)
    for email in emails:
        local = email.split("@")[0]
        if email.lower() in body.lower() or local.lower() in body.lower():
            found.append(email)
    return found


@pytest.fixture
def seeded(rep, manager, finance, signatory):
    default_approval_rules()
    customer = customer_services.customer_create(
        actor=rep,
        name=f"Acme {SHORT}",
        email=EMAILS[0],
        phone=PHONES[1],
        address=LEAK,
        notes=LEAK,
    )
    customer_services.customer_update(actor=rep, customer_id=customer.pk, notes=f"{LEAK} (updated)")
    contact = customer_services.contact_create(
        actor=rep, customer_id=customer.pk, name=f"Wang {PHONES[0]}", title=LEAK[:150], email=EMAILS[1], phone=PHONES[2]
    )
    interaction = customer_services.interaction_create(
        actor=rep, customer_id=customer.pk, kind="call", subject=LEAK[:200], body=LEAK, contact=contact
    )
    opportunity = customer_services.opportunity_create(
        actor=rep,
        customer=customer,
        title=LEAK[:200],
        amount=Decimal("1000"),
        currency="CNY",
        expected_close_date=datetime.date(2027, 6, 30),
        next_step=LEAK[:200],
    )
    customer_services.opportunity_advance(actor=rep, opportunity_id=opportunity.pk, stage="proposal", note=LEAK)
    activity = customer_services.activity_create(
        actor=rep,
        customer_id=customer.pk,
        kind="call",
        subject=LEAK[:200],
        notes=LEAK,
        due_at=timezone.now() + datetime.timedelta(hours=2),
        opportunity=opportunity,
    )
    terms = {"owner": rep, "customer": customer, "title": TERMS_TITLE, "body": TERMS_BODY}
    draft = ContractFactory(**terms)
    draft = contract_services.contract_update(actor=rep, contract_id=draft.pk, body=TERMS_BODY + "5. Notices\n")
    rejected = pending_contract(**terms)
    contract_services.contract_reject(actor=manager, contract_id=rejected.pk, comment=LEAK)
    cancelled = ContractFactory(**terms)
    contract_services.contract_cancel(actor=rep, contract_id=cancelled.pk, reason=LEAK)

    def activate():
        contract = pending_contract(**terms)
        contract_services.contract_approve(actor=manager, contract_id=contract.pk, comment=LEAK)
        signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)
        _link, url = signatures.signing_link_send(actor=rep, contract_id=contract.pk)
        token = url.rstrip("/").rsplit("/", 1)[-1]
        signatures.contract_sign_customer(token=token, full_name=f"Li {PHONES[0]}", accepted=True)
        return contract

    active, terminated = activate(), activate()
    contract_services.contract_terminate(actor=manager, contract_id=terminated.pk, reason=LEAK)

    product = ProductFactory(name=f"Pump {SHORT}", description=LEAK)
    order = order_for(rep, customer, lines=[line(product)], notes=LEAK)
    on_contract = order_for(rep, customer, contract=active, lines=[line(product)], notes=LEAK)
    cancelled_order = order_for(rep, customer, lines=[line(product)], notes=LEAK)
    order_services.order_cancel(actor=rep, order_id=cancelled_order.pk, reason=LEAK)
    rejected_order = order_for(rep, customer, lines=[line(product)], notes=LEAK)
    order_services.order_submit(actor=rep, order_id=rejected_order.pk)
    order_services.order_reject(actor=manager, order_id=rejected_order.pk, comment=LEAK)
    # The service desk: an unassigned ticket the customer wrote on (agents see it), and one
    # a service manager worked (notes, replies, resolution) — every text holding the leak.
    open_ticket = ticket_for(customer, contact=contact, subject=LEAK[:200], description=LEAK)
    service_services.ticket_customer_message_add(ticket=open_ticket, body=LEAK, author_email=EMAILS[1])
    worked = ticket_for(customer, contact=contact, subject=f"Pump {SHORT}", description=LEAK)
    desk_manager = UserFactory(username="masking_desk_manager", role=Role.SERVICE_MANAGER)
    service_services.ticket_assign(actor=desk_manager, ticket_id=worked.pk, assignee=desk_manager, comment=LEAK)
    service_services.ticket_start(actor=desk_manager, ticket_id=worked.pk)
    service_services.ticket_reply_add(actor=desk_manager, ticket=worked, body=LEAK, public=False)
    service_services.ticket_reply_add(actor=desk_manager, ticket=worked, body=LEAK, public=True)
    service_services.ticket_wait(actor=desk_manager, ticket_id=worked.pk, comment=LEAK)
    service_services.ticket_resolve(actor=desk_manager, ticket_id=worked.pk, comment=LEAK)
    quote = order_services.quote_create(
        actor=rep, opportunity_id=opportunity.pk, lines=[quote_line(product)], title=SHORT, terms=LEAK
    )
    # Marketing: a segment and a campaign named and written with the leak, sent to the contact.
    customer_services.contact_update(actor=rep, contact_id=contact.pk, marketing_consent=True)
    segment = marketing_services.segment_create(actor=rep, name=SHORT, description=LEAK)
    campaign = marketing_services.campaign_create(
        actor=rep,
        segment=segment,
        name=SHORT,
        language="en",
        subject_en=LEAK[:200],
        body_en=f"{{{{ contact.name }}}} {LEAK}",
    )
    marketing_services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
    marketing_services.campaign_start(actor=SYSTEM, campaign_id=campaign.pk)
    # What came back: a temporary bounce whose diagnostic quotes the leak, and a reply (the
    # recipients' list and the campaign's history show both).
    copy = campaign.recipients.get()
    marketing_services.recipient_bounce(recipient_id=copy.pk, permanent=False, status_code="4.2.2", diagnostic=LEAK)
    marketing_services.recipient_reply(recipient_id=copy.pk)
    return {
        "segment": segment,
        "campaign": campaign,
        "quote": quote,
        "ticket": open_ticket,
        "tickets": [open_ticket, worked],
        "customer": customer,
        "contact": contact,
        "interaction": interaction,
        "opportunity": opportunity,
        "activity": activity,
        "contract": draft,
        "contracts": [draft, rejected, cancelled, active, terminated],
        "product": product,
        "order": order,
        "orders": [order, on_contract, cancelled_order, rejected_order],
        "notification": [
            Notification.objects.create(recipient=user, verb="%(number)s", params={"number": LEAK})
            for user in (finance, signatory, rep)
        ][-1],
        # The desk's incoming mail: a stranger's request, contact details everywhere in it.
        "inbound": (
            inbound := inbound_mail_from_form(
                from_email=EMAILS[0],
                from_name=f"Zhao {PHONES[0]}",
                subject=LEAK[:200],
                body=LEAK,
                attachments=(ParsedAttachment(filename=f"{PHONES[0]}.txt", content_type="text/plain", content=b"x"),),
            )
        ),
        "attachment": inbound.attachments.get(),
        # An import of rep's whose rows hold contact details (only rep and the admin see it).
        "import_run": import_services.import_run_check(
            actor=rep,
            run_id=import_services.import_run_create(
                actor=rep,
                kind="customers",
                file_name=f"{PHONES[0]}.csv",
                content=f"name,email,phone\nLeak {SHORT},{EMAILS[0]},{PHONES[1]}\n".encode(),
            ).pk,
        ),
    }


def matrix_urls(objects):
    """Every URL of the permission matrix, filled with the seeded objects."""
    for url_name in sorted(EXPECTED):
        args = [objects[arg].pk if isinstance(arg, str) else arg for arg in URL_ARGS.get(url_name, [])]
        url = reverse(url_name, args=args, kwargs=URL_KWARGS.get(url_name))
        query = {param: objects[name].pk for param, name in URL_QUERY.get(url_name, {}).items()}
        yield f"{url}?{urlencode(query)}" if query else url


def every_url(objects):
    """The matrix, plus each page of every seeded contract and order and the exports."""
    yield from matrix_urls(objects)
    for contract in objects["contracts"]:
        for name in ("contract_detail", "contract_diff", "contract_certificate", "contract_similar"):
            yield reverse(f"contracts:{name}", args=[contract.pk])
        yield f"{reverse('orders:contract_orders')}?contract={contract.pk}"
        yield f"{reverse('orders:order_list')}?contract={contract.pk}"
        yield f"{reverse('orders:order_export')}?contract={contract.pk}"
    for order in objects["orders"]:
        yield reverse("orders:order_detail", args=[order.pk])
    customer = objects["customer"].pk
    yield f"{reverse('customers:customer_list')}?q=Acme"
    yield f"{reverse('customers:customer_export')}?q=Acme"
    yield f"{reverse('orders:order_list')}?customer={customer}"
    yield f"{reverse('orders:order_export')}?customer={customer}"
    yield f"{reverse('contracts:contract_list')}?customer={customer}"
    yield reverse("contracts:approval_inbox")
    for text in ("Acme", "CT-", "ORD-"):  # the search page, whose groups the navigation's box shows too
        yield f"{reverse('dashboard:search')}?{urlencode({'q': text})}"
    for ticket in objects["tickets"]:
        yield reverse("service:ticket_detail", args=[ticket.pk])
    yield f"{reverse('service:ticket_list')}?customer={customer}"
    yield f"{reverse('service:customer_tickets')}?customer={customer}"
    campaign = objects["campaign"].pk
    yield f"{reverse('marketing:campaign_preview', args=[campaign])}?contact={objects['contact'].pk}"
    # The API answers with the same masking: each seeded object, and the lists.
    for name, key in [("contract", "contracts"), ("order", "orders"), ("ticket", "tickets")]:
        for obj in objects[key]:
            yield reverse(f"api:{name}-detail", args=[obj.pk])
        yield f"{reverse(f'api:{name}-list')}?customer={customer}"
    yield f"{reverse('api:customer-list')}?q=Acme"


def body_of(response) -> str:
    """The text a reader gets: a PDF's through pdftotext (Debian's poppler-utils)."""
    if response.get("Content-Type", "").startswith("application/pdf"):
        return subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_no_page_or_export_shows_a_masked_role_the_contact_details(request, client, seeded, role):
    client.force_login(request.getfixturevalue(role))
    phones, emails = list(PHONES), list(EMAILS)
    if role not in TERMS_ROLES:
        phones, emails = phones + TERMS_PHONES, emails + TERMS_EMAILS
    problems = {}
    for url in every_url(seeded):
        response = client.get(url)
        assert response.status_code < 500, url
        found = leaks(body_of(response), phones, emails)
        if found:
            problems[url] = found
    assert not problems, f"{role} sees contact details: {problems}"


def test_the_seeded_pages_are_really_rendered_for_the_agent(client_for, agent, seeded):
    """Guard for the leak test: the agent reads the pages, masked, not empty ones."""
    client = client_for(agent)
    page = client.get(seeded["customer"].get_absolute_url()).content.decode()
    assert "139****5678" in page and "l***@example.com" in page and "Acme" in page
    assert "Call" in page  # the interaction, masked but shown
    csv = body_of(client.get(reverse("customers:customer_export")))
    assert "Acme" in csv and "l***@example.com" in csv


@pytest.mark.parametrize("role", ["finance", "signatory", "manager"])
def test_roles_that_approve_or_sign_read_the_terms_in_full(request, client, seeded, role):
    client.force_login(request.getfixturevalue(role))
    for contract in seeded["contracts"]:
        page = client.get(contract.get_absolute_url()).content.decode()
        assert "terms.secret@example.com" in page and "13700001111" in page, contract.number
        assert TERMS_TITLE in page
    diff = client.get(reverse("contracts:contract_diff", args=[seeded["contract"].pk])).content.decode()
    assert "terms.secret@example.com" in diff or "5. Notices" in diff


@pytest.mark.parametrize("role", ["agent", "finance", "rep"])
def test_dates_amounts_and_numbers_in_the_terms_are_never_garbled(request, client, seeded, role):
    client.force_login(request.getfixturevalue(role))
    page = client.get(seeded["contract"].get_absolute_url()).content.decode()
    for kept in ["From 2026-12-01 until 2026-12-31", "1,234,567.00 CNY", "SO-2026-000045", "CT-2026-000123", "100020"]:
        assert kept in page, (role, kept)


# A free-text field is any CharField or TextField without choices, except these codes,
# hashes and keys, which hold no contact details.
NOT_FREE_TEXT = {
    "action", "backend_alias", "currency", "hash", "key", "key_id", "number", "parent_id", "payload_hash", "prev_hash",
    "previous_signature_sha256", "public_key_pem", "request_id", "sku", "statement_sha256", "target_id",
    "token_sha256", "user_agent",
}  # fmt: skip
WHOLE_OBJECTS = {"object", "parent", "message"}  # shown by their str(), which holds names
# The dashboard's sections, charts, reports and tables are dataclasses declared in code
# (crm/dashboard): their names and titles are translated labels, never a record's text.
CODE_DECLARED = {"section", "chart", "report", "table"}
MASKING_FILTERS = re.compile(r"\|(text|terms|phone|email):")
VALUE = re.compile(r"\{\{\s*([\w.]+)([^}]*)\}\}|\bwith\s+((?:\w+=[^\s%]+\s*)+)")


def free_text_fields():
    from django.apps import apps
    from django.db import models

    return {
        field.name
        for model in apps.get_models()
        if model._meta.app_label in {"core", "customers", "contracts", "orders", "service", "marketing"}
        for field in model._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField) and not field.choices
    } - NOT_FREE_TEXT


def unmasked_values(source: str, fields: set[str]):
    """Each `{{ value }}` (and `blocktranslate with x=value`) showing a free-text field or
    a whole object without one of the masking filters."""
    for match in VALUE.finditer(source):
        pairs = [(match.group(1), match.group(2))] if match.group(1) else []
        for assignment in (match.group(3) or "").split():
            expression = assignment.split("=", 1)[1]
            name, _, rest = expression.partition("|")
            pairs.append((name, "|" + rest if rest else ""))
        for name, filters in pairs:
            attribute = name.rpartition(".")[2] if "." in name else None  # a bare name is the view's own
            if filters.startswith("|verbose_name") or name.partition(".")[0] in CODE_DECLARED:
                continue
            if (attribute in fields or name in WHOLE_OBJECTS) and not MASKING_FILTERS.search(filters):
                yield name


def test_every_template_shows_free_text_through_the_masking_filters(settings):
    from pathlib import Path

    fields = free_text_fields()
    assert {"name", "notes", "body", "title", "comment", "subject", "address"} <= fields
    problems = {}
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(folder).rglob("*.html"):
            found = sorted(set(unmasked_values(path.read_text(), fields)))
            if found:
                problems[str(path.relative_to(folder))] = found
    assert not problems, f"Show these through |text:masker (or |terms:masker for contract terms): {problems}"


def test_the_template_check_finds_an_unfiltered_value():
    """Guard for the check above."""
    fields = {"notes", "name"}
    assert list(unmasked_values("<p>{{ customer.notes|linebreaksbr }}</p>{{ object }}", fields)) == [
        "customer.notes",
        "object",
    ]
    assert list(unmasked_values("{% blocktranslate with who=contact.name %}", fields)) == ["contact.name"]
    assert not list(unmasked_values("{{ customer.notes|text:masker|linebreaksbr }}{{ customer.pk }}", fields))


@pytest.mark.parametrize(
    ("url_name", "found"),
    [
        ("customers:customer_list", "Acme"),
        ("customers:contact_list", "Wang"),
        ("contracts:contract_list", "CT-"),
        ("orders:product_list", "Pump"),
    ],
)
def test_a_masked_number_cannot_be_found_by_searching_for_it(client_for, rep, agent, seeded, url_name, found):
    url = f"{reverse(url_name)}?{urlencode({'q': '13912345678'})}"
    if url_name == "contracts:contract_list":
        url = f"{reverse(url_name)}?{urlencode({'q': '13700001111'})}"
    assert found in client_for(rep).get(url).content.decode()
    assert found not in client_for(agent).get(url).content.decode().split("<tbody>")[1]


def test_the_customer_reads_the_terms_they_sign_in_full(client, rep, manager, signatory):
    """The signing page has no login, so no role: the customer is the contract's party."""
    default_approval_rules()
    customer = customer_services.customer_create(actor=rep, name="Acme", email=EMAILS[0])
    contract = pending_contract(owner=rep, customer=customer, title=TERMS_TITLE, body=TERMS_BODY)
    contract_services.contract_approve(actor=manager, contract_id=contract.pk)
    signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)
    _link, url = signatures.signing_link_send(actor=rep, contract_id=contract.pk)
    page_url = reverse("contracts:customer_sign", args=[url.rstrip("/").rsplit("/", 1)[-1]])

    opened = client.get(page_url, follow=True)  # the token is exchanged for a session
    page = opened.content.decode()
    assert TERMS_TITLE in page and "terms.secret@example.com or 13700001111" in page
    done = client.post(
        opened.redirect_chain[-1][0], {"full_name": f"Li {PHONES[0]}", "accepted": "on"}
    ).content.decode()
    assert f"Li {PHONES[0]} accepted contract" in done
