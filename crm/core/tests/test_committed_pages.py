"""Every page that writes really commits: each is POSTed outside any test transaction.

Other view tests run inside a transaction, so a page whose service locks or writes in
autocommit mode passes there and answers 500 in production (editing a contact did). Here
one journey POSTs every write page through the test client with `transaction=True`, and
checks the database afterwards. A new page that accepts POST fails
`test_every_write_page_is_in_the_journey` until it is added to PAGE_POSTS (or, if it
writes nothing of ours, to NOT_OUR_WRITES).
"""

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from contracts.choices import ContractStatus
from contracts.models import Contract, SigningLink
from contracts.tests.factories import SMALL, default_approval_rules
from crm.core.models import Notification
from crm.core.roles import Role
from crm.core.tests.factories import PASSWORD, UserFactory
from customers.models import Activity, Contact, Customer, Interaction, LostReason, Opportunity
from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, CampaignOpportunity, Segment
from orders.choices import OrderStatus, QuoteStatus
from orders.models import Order, Product, Quote
from orders.tests.factories import IN_PERIOD, active_contract, opportunity_for, quote_for
from service.choices import TicketStatus
from service.mail_models import InboundMail, InboundStatus, SatisfactionRating
from service.models import AgentDuty, Ticket

# Pages that accept POST but write nothing of ours (Django's auth pages; the public
# verification page only reads the upload).
NOT_OUR_WRITES = {
    "login",
    "logout",
    "password_change",
    "password_reset",
    "password_reset_confirm",
    "contracts:verify",
}


def named_post_pages(resolver=None, namespace=""):
    """Every named URL (outside the admin) whose view answers POST."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                inner = pattern.namespace or namespace
                yield from named_post_pages(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None and hasattr(view_class, "post"):
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def posted(client, url, data=None, *, status=302, follow=False):
    response = client.post(url, data or {}, follow=follow)
    expected = 200 if follow else status
    assert response.status_code == expected, f"{url} answered {response.status_code}"
    if not follow and status == 302:
        assert "errorlist" not in response.content.decode(), f"{url} showed form errors"
    return response


def contract_form(**changes):
    data = {
        "title": "Committed supply",
        "amount": str(SMALL),
        "currency": "CNY",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "payment_terms_days": "30",
        "body": "1. Scope\n2. Price\n",
    }
    return {**data, **changes}


def order_form(product, *, quantity=1, contract="", line_id="", initial=0, **header):
    data = {
        "order_date": IN_PERIOD.isoformat(),
        "currency": "CNY",
        "notes": "",
        "contract": str(contract),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-id": str(line_id),
        "lines-0-product": str(product.pk),
        "lines-0-quantity": str(quantity),
        "lines-0-discount_percent": "0",
    }
    return {**data, **{key: str(value) for key, value in header.items()}}


def url(name, *args, **query):
    path = reverse(name, args=args)
    return path + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


# --- the journey: each step POSTs one page and checks what it stored -----------------------------


def customer_create(w):
    data = {"kind": "company", "name": "Committed Goods Ltd", "industry": "retail", "tier": "standard"}
    posted(w.as_rep, url("customers:customer_create"), {**data, "status": "lead", "email": "buy@committed.example.com"})
    w.customer = Customer.objects.get(name="Committed Goods Ltd")
    assert w.customer.owner == w.rep


def customer_update(w):
    data = {"kind": "company", "name": "Committed Goods Ltd", "industry": "retail", "tier": "key"}
    posted(
        w.as_rep,
        url("customers:customer_update", w.customer.pk),
        {**data, "status": "active", "email": "buy@committed.example.com", "notes": "VIP"},
    )
    assert Customer.objects.get(pk=w.customer.pk).notes == "VIP"


def contact_create(w):
    posted(w.as_rep, url("customers:contact_create", w.customer.pk), {"name": "Li Na", "title": "Buyer"})
    w.contact = Contact.objects.get(customer=w.customer, name="Li Na")


def contact_update(w):
    data = {"name": "Li Na", "title": "Head of purchasing", "is_primary": "on"}
    posted(w.as_rep, url("customers:contact_update", w.contact.pk), data)
    assert Contact.objects.get(pk=w.contact.pk).title == "Head of purchasing"


def contact_delete(w):
    posted(w.as_rep, url("customers:contact_delete", w.contact.pk))
    assert not Contact.objects.filter(pk=w.contact.pk).exists()


def interaction_create(w):
    data = {"kind": "call", "occurred_at": "2026-03-01T10:00", "subject": "Intro call"}
    posted(w.as_rep, url("customers:interaction_create", w.customer.pk), data)
    w.interaction = Interaction.objects.get(customer=w.customer, subject="Intro call")


def interaction_delete(w):
    posted(w.as_rep, url("customers:interaction_delete", w.interaction.pk))
    assert not Interaction.objects.filter(pk=w.interaction.pk).exists()


def customer_reassign(w):
    w.spare = CustomerFactory(owner=w.rep, name="Spare Parts Ltd")
    posted(w.as_manager, url("customers:customer_reassign"), {"customer": [w.spare.pk], "owner": w.other_rep.pk})
    assert Customer.objects.get(pk=w.spare.pk).owner == w.other_rep


def customer_delete(w):
    posted(w.as_manager, url("customers:customer_delete", w.spare.pk))
    assert not Customer.objects.filter(pk=w.spare.pk).exists()


def opportunity_create(w):
    data = {"customer": w.customer.pk, "title": "Committed robots", "amount": "80000", "currency": "CNY"}
    posted(
        w.as_rep, url("customers:opportunity_create"), {**data, "expected_close_date": "2027-02-01", "source": "web"}
    )
    w.opportunity = Opportunity.objects.get(title="Committed robots")


def opportunity_update(w):
    data = {"title": "Committed robots", "amount": "90000", "currency": "CNY", "source": "web"}
    posted(
        w.as_rep, url("customers:opportunity_update", w.opportunity.pk), {**data, "expected_close_date": "2027-02-01"}
    )
    assert Opportunity.objects.get(pk=w.opportunity.pk).amount == Decimal("90000")


def opportunity_advance(w):
    posted(w.as_rep, url("customers:opportunity_advance", w.opportunity.pk), {"stage": "proposal"})
    assert Opportunity.objects.get(pk=w.opportunity.pk).stage == "proposal"


def opportunity_lose(w):
    reason = LostReason.objects.create(name="Committed: no budget")
    posted(w.as_rep, url("customers:opportunity_lose", w.opportunity.pk), {"lost_reason": reason.pk})
    assert Opportunity.objects.get(pk=w.opportunity.pk).stage == "lost"


def opportunity_reopen(w):
    posted(w.as_rep, url("customers:opportunity_reopen", w.opportunity.pk))
    assert Opportunity.objects.get(pk=w.opportunity.pk).stage == "proposal"


def opportunity_win(w):
    posted(w.as_rep, url("customers:opportunity_win", w.opportunity.pk), {"note": "Signed"})
    assert Opportunity.objects.get(pk=w.opportunity.pk).stage == "won"


def opportunity_assign(w):
    posted(
        w.as_manager, url("customers:opportunity_assign"), {"opportunity": [w.opportunity.pk], "owner": w.other_rep.pk}
    )
    assert Opportunity.objects.get(pk=w.opportunity.pk).owner == w.other_rep


def activity_create(w):
    data = {"kind": "call", "subject": "Committed call", "due_at": "2027-01-05T10:00"}
    posted(w.as_rep, url("customers:activity_create", w.customer.pk), data)
    w.activity = Activity.objects.get(subject="Committed call")


def activity_reschedule(w):
    posted(w.as_rep, url("customers:activity_reschedule", w.activity.pk), {"due_at": "2027-01-06T10:00"})
    assert Activity.objects.get(pk=w.activity.pk).due_at.day == 6


def activity_complete(w):
    posted(w.as_rep, url("customers:activity_complete", w.activity.pk), {"outcome": "Committed outcome"})
    assert Interaction.objects.filter(customer=w.customer, body="Committed outcome").exists()


def activity_cancel(w):
    data = {"kind": "todo", "subject": "Committed to-do", "due_at": "2027-01-07T10:00"}
    posted(w.as_rep, url("customers:activity_create", w.customer.pk), data)
    todo = Activity.objects.get(subject="Committed to-do")
    posted(w.as_rep, url("customers:activity_cancel", todo.pk), {"reason": "Not needed"})
    assert Activity.objects.get(pk=todo.pk).status == "cancelled"


def contract_create(w):
    posted(w.as_rep, url("contracts:contract_create", customer=w.customer.pk), contract_form())
    w.draft = Contract.objects.get(customer=w.customer, title="Committed supply")


def contract_update(w):
    posted(w.as_rep, url("contracts:contract_update", w.draft.pk), contract_form(title="Committed supply, revised"))
    assert Contract.objects.get(pk=w.draft.pk).title == "Committed supply, revised"


def status_of(contract):
    return Contract.objects.get(pk=contract.pk).status


def contract_submit(w):
    posted(w.as_rep, url("contracts:contract_submit", w.draft.pk))
    assert status_of(w.draft) == ContractStatus.PENDING_APPROVAL


def contract_reject(w):
    posted(w.as_manager, url("contracts:contract_reject", w.draft.pk), {"comment": "Price too low"})
    assert status_of(w.draft) == ContractStatus.REJECTED


def contract_reopen(w):
    posted(w.as_rep, url("contracts:contract_reopen", w.draft.pk))
    assert status_of(w.draft) == ContractStatus.DRAFT


def contract_cancel(w):
    posted(w.as_rep, url("contracts:contract_cancel", w.draft.pk), {"reason": "Not needed"})
    assert status_of(w.draft) == ContractStatus.CANCELLED


def contract_approve(w):
    posted(w.as_rep, url("contracts:contract_create", customer=w.customer.pk), contract_form(title="Committed deal"))
    w.deal = Contract.objects.get(customer=w.customer, title="Committed deal")
    posted(w.as_rep, url("contracts:contract_submit", w.deal.pk))
    posted(w.as_manager, url("contracts:contract_approve", w.deal.pk), {"comment": "OK"})
    assert status_of(w.deal) == ContractStatus.APPROVED


def signing_link_send(w):
    response = posted(w.as_rep, url("contracts:signing_link_send", w.deal.pk), {"email": "li@example.com"}, follow=True)
    w.token = re.search(r"/contracts/sign/([^/\"'<]+)/", response.content.decode()).group(1)
    assert SigningLink.objects.filter(contract=w.deal, email="li@example.com", revoked_at__isnull=True).exists()


def signing_link_revoke(w):
    link = SigningLink.objects.get(contract=w.deal, revoked_at__isnull=True)
    posted(w.as_rep, url("contracts:signing_link_revoke", w.deal.pk, link.pk))
    assert SigningLink.objects.get(pk=link.pk).revoked_at is not None


def contract_sign(w):
    posted(w.as_signatory, url("contracts:contract_sign", w.deal.pk), {"password": PASSWORD})
    assert w.deal.signatures.filter(party="company").exists()


def customer_sign(w):
    signing_link_send(w)
    opened = w.anonymous.get(url("contracts:customer_sign", w.token))  # the token becomes a session
    assert opened.status_code == 302 and opened.url == url("contracts:customer_sign_page")
    posted(w.anonymous, opened.url, {"full_name": "Zhao Lei", "accepted": "on"}, status=200)
    assert status_of(w.deal) == ContractStatus.ACTIVE


def product_create(w):
    data = {"sku": "COMMIT-1", "name": "Pump", "unit_price": "100.00", "currency": "CNY", "is_active": "on"}
    posted(w.as_manager, url("orders:product_create"), data)
    w.product = Product.objects.get(sku="COMMIT-1")


def product_update(w):
    data = {"sku": "COMMIT-1", "name": "Pump, large", "unit_price": "120.00", "currency": "CNY", "is_active": "on"}
    posted(w.as_manager, url("orders:product_update", w.product.pk), data)
    assert Product.objects.get(pk=w.product.pk).unit_price == Decimal("120.00")


def order_create(w):
    posted(w.as_rep, url("orders:order_create", contract=w.deal.pk), order_form(w.product, contract=w.deal.pk))
    w.order = Order.objects.get(contract=w.deal)


def order_update(w):
    line = w.order.lines.get()
    data = order_form(w.product, quantity=3, contract=w.deal.pk, line_id=line.pk, initial=1, notes="Three")
    posted(w.as_rep, url("orders:order_update", w.order.pk), data)
    assert Order.objects.get(pk=w.order.pk).total == Decimal("360.00")


def order_status(order):
    return Order.objects.get(pk=order.pk).status


def order_submit(w):
    posted(w.as_rep, url("orders:order_submit", w.order.pk))
    assert order_status(w.order) == OrderStatus.APPROVED  # against a contract, small: approved at once


def order_start_fulfilment(w):
    posted(w.as_manager, url("orders:order_start_fulfilment", w.order.pk))
    assert order_status(w.order) == OrderStatus.IN_FULFILMENT


def order_deliver(w):
    posted(w.as_manager, url("orders:order_deliver", w.order.pk))
    assert order_status(w.order) == OrderStatus.DELIVERED


def order_close(w):
    posted(w.as_manager, url("orders:order_close", w.order.pk))
    assert order_status(w.order) == OrderStatus.CLOSED


def loose_order(w, notes):
    """A submitted order outside any contract: it waits for a manager."""
    posted(w.as_rep, url("orders:order_create", customer=w.customer.pk), order_form(w.product, notes=notes))
    order = Order.objects.get(notes=notes)
    posted(w.as_rep, url("orders:order_submit", order.pk))
    assert order_status(order) == OrderStatus.PENDING_APPROVAL
    return order


def order_approve(w):
    order = loose_order(w, "to approve")
    posted(w.as_manager, url("orders:order_approve", order.pk), {"comment": "OK"})
    assert order_status(order) == OrderStatus.APPROVED


def order_reject(w):
    w.sent_back = loose_order(w, "to send back")
    posted(w.as_manager, url("orders:order_reject", w.sent_back.pk), {"comment": "Wrong pump"})
    assert order_status(w.sent_back) == OrderStatus.DRAFT


def order_cancel(w):
    posted(w.as_rep, url("orders:order_cancel", w.sent_back.pk), {"reason": "Changed their mind"})
    assert order_status(w.sent_back) == OrderStatus.CANCELLED


def quote_form(product, *, discount=0, line_id="", initial=0, title="Committed quote"):
    return {
        "title": title,
        "language": "en",
        "currency": "CNY",
        "valid_until": "",
        "terms": "Net 30 days.",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-id": str(line_id),
        "lines-0-product": str(product.pk),
        "lines-0-quantity": "2",
        "lines-0-discount_percent": str(discount),
        "lines-0-tax_rate": "13",
        "lines-0-line_text": "",
    }


def quote_status(quote):
    return Quote.objects.get(pk=quote.pk).status


def quote_create(w):
    w.quote_deal = opportunity_for(w.rep, w.customer, title="Committed quoting deal")
    posted(w.as_rep, url("orders:quote_create", opportunity=w.quote_deal.pk), quote_form(w.product, discount=20))
    w.quote = Quote.objects.get(opportunity=w.quote_deal)
    assert w.quote.approval_reasons, "a 20 % discount needs a manager"


def quote_update(w):
    line_id = w.quote.lines.get().pk
    data = quote_form(w.product, discount=20, line_id=line_id, initial=1, title="Committed quote, v2")
    posted(w.as_rep, url("orders:quote_update", w.quote.pk), data)
    assert Quote.objects.get(pk=w.quote.pk).title == "Committed quote, v2"


def quote_submit(w):
    posted(w.as_rep, url("orders:quote_submit", w.quote.pk))
    assert quote_status(w.quote) == QuoteStatus.PENDING_APPROVAL


def quote_reject(w):
    posted(w.as_manager, url("orders:quote_reject", w.quote.pk), {"comment": "Too deep"})
    assert quote_status(w.quote) == QuoteStatus.DRAFT
    posted(w.as_rep, url("orders:quote_submit", w.quote.pk))


def quote_approve(w):
    posted(w.as_manager, url("orders:quote_approve", w.quote.pk), {"comment": "OK"})
    assert quote_status(w.quote) == QuoteStatus.APPROVED


def _customer_link(w):
    """The link in the newest mail to the customer (delivered by the task on commit)."""
    message = [message for message in mail.outbox if w.customer.email in message.to][-1]
    return re.search(r"https?://\S+/orders/quotes/view/\S+/", message.body).group(0).split("/orders", 1)[1]


def quote_send(w):
    posted(w.as_rep, url("orders:quote_send", w.quote.pk), {"contact": ""})
    assert quote_status(w.quote) == QuoteStatus.SENT
    w.quote_link = "/orders" + _customer_link(w)


def quote_public(w):
    """The customer opens the mailed link (the token becomes a session) and accepts."""
    customer = Client()
    response = customer.get(w.quote_link)
    assert response.status_code == 302
    posted(customer, response["Location"], {"full_name": "Zhao Lei", "accepted": "on"}, status=200)
    quote = Quote.objects.select_related("contract").get(pk=w.quote.pk)
    assert quote.status == QuoteStatus.ACCEPTED and quote.contract.amount == quote.gross_total


def quote_public_decline(w):
    w.declined = quote_for(w.rep, w.quote_deal, product=w.product)
    posted(w.as_rep, url("orders:quote_send", w.declined.pk), {"contact": ""})
    customer = Client()
    customer.get("/orders" + _customer_link(w))
    posted(customer, url("orders:quote_public_decline"), {"reason": "Too expensive"}, status=200)
    assert quote_status(w.declined) == QuoteStatus.DECLINED


def quote_link_revoke(w):
    quote = quote_for(w.rep, w.quote_deal, product=w.product)
    posted(w.as_rep, url("orders:quote_send", quote.pk), {"contact": ""})
    link = quote.links.get()
    posted(w.as_rep, url("orders:quote_link_revoke", quote.pk, link.pk))
    assert not type(link).objects.get(pk=link.pk).is_usable()


def quote_revise(w):
    posted(w.as_rep, url("orders:quote_revise", w.declined.pk))
    w.revision = Quote.objects.get(supersedes=w.declined)
    assert w.revision.revision == 2


def quote_cancel(w):
    posted(w.as_rep, url("orders:quote_cancel", w.revision.pk), {"reason": "Replaced"})
    assert quote_status(w.revision) == QuoteStatus.CANCELLED


def contract_complete(w):
    posted(w.as_manager, url("contracts:contract_complete", w.deal.pk))
    assert status_of(w.deal) == ContractStatus.COMPLETED


def contract_terminate(w):
    other = active_contract(w.rep, w.customer, "1000.00", manager=w.manager, signatory=w.signatory)
    posted(w.as_manager, url("contracts:contract_terminate", other.pk), {"reason": "Breach"})
    assert status_of(other) == ContractStatus.TERMINATED


def notification_read(w):
    """The manager was told of the submissions (delivered on commit, as in production)."""
    notification = Notification.objects.filter(recipient=w.manager, read_at__isnull=True).first()
    assert notification is not None, "the manager was told nothing"
    posted(w.as_manager, url("notifications:notification_read", notification.pk))
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def notification_read_all(w):
    assert Notification.objects.filter(recipient=w.rep, read_at__isnull=True).exists()
    posted(w.as_rep, url("notifications:notification_read_all"))
    assert not Notification.objects.filter(recipient=w.rep, read_at__isnull=True).exists()


def token_create(w):
    """A personal access token from the user's tokens page: created and shown once."""
    from crm.api.models import ApiToken

    posted(w.as_rep, url("tokens:token_list"), {"name": "Committed ERP", "scopes": ["read"], "expires": "30"})
    assert ApiToken.objects.filter(user=w.rep, name="Committed ERP", revoked_at__isnull=True).exists()


def _desk_people(w):
    w.agent = UserFactory(username="pages_agent", role=Role.SERVICE_AGENT)
    w.service_manager = UserFactory(username="pages_service_manager", role=Role.SERVICE_MANAGER)
    w.as_agent, w.as_service_manager = Client(), Client()
    w.as_agent.force_login(w.agent)
    w.as_service_manager.force_login(w.service_manager)


def ticket_status(ticket):
    return Ticket.objects.get(pk=ticket.pk).status


def ticket_create(w):
    _desk_people(w)
    data = {"subject": "Committed pump leaks", "kind": "complaint", "channel": "phone", "priority": "high"}
    posted(w.as_agent, url("service:ticket_create", customer=w.customer.pk), data)
    w.ticket = Ticket.objects.get(subject="Committed pump leaks")
    assert w.ticket.assignee == w.agent, "the only agent on duty gets it"


def ticket_start(w):
    posted(w.as_agent, url("service:ticket_start", w.ticket.pk))
    assert ticket_status(w.ticket) == TicketStatus.IN_PROGRESS


def ticket_reply(w):
    posted(w.as_agent, url("service:ticket_reply", w.ticket.pk), {"body": "A technician comes Friday", "public": "1"})
    assert Ticket.objects.get(pk=w.ticket.pk).first_responded_at is not None


def ticket_update(w):
    data = {"subject": "Committed pump leaks at the seal", "kind": "complaint", "priority": "urgent"}
    posted(w.as_agent, url("service:ticket_update", w.ticket.pk), data)
    assert Ticket.objects.get(pk=w.ticket.pk).priority == "urgent"


def ticket_wait(w):
    posted(w.as_agent, url("service:ticket_wait", w.ticket.pk), {"comment": "Waiting for photos"})
    assert ticket_status(w.ticket) == TicketStatus.WAITING_ON_CUSTOMER


def ticket_resolve(w):
    from service.selectors import resolution_codes

    code = resolution_codes().first()  # the admin's list, when it offers any, must be answered
    data = {"comment": "Seal replaced", **({"resolution_code": code.pk} if code else {})}
    posted(w.as_agent, url("service:ticket_resolve", w.ticket.pk), data)
    assert ticket_status(w.ticket) == TicketStatus.RESOLVED


def ticket_close(w):
    posted(w.as_agent, url("service:ticket_close", w.ticket.pk))
    assert ticket_status(w.ticket) == TicketStatus.CLOSED


def ticket_reopen(w):
    posted(w.as_agent, url("service:ticket_reopen", w.ticket.pk), {"reason": "Leaks again"})
    assert ticket_status(w.ticket) == TicketStatus.IN_PROGRESS


def ticket_assign(w):
    data = {"assignee": w.service_manager.pk, "comment": "I take it over"}
    posted(w.as_service_manager, url("service:ticket_assign", w.ticket.pk), data)
    assert Ticket.objects.get(pk=w.ticket.pk).assignee == w.service_manager


def agent_duty(w):
    posted(w.as_agent, url("service:agent_duty", w.agent.pk), {"on_duty": "0"})
    assert not AgentDuty.objects.get(agent=w.agent).on_duty


def ticket_claim(w):
    data = {"subject": "Committed unassigned", "kind": "inquiry", "channel": "phone", "priority": "low"}
    posted(w.as_agent, url("service:ticket_create", customer=w.customer.pk), data)
    ticket = Ticket.objects.get(subject="Committed unassigned")
    assert ticket.assignee is None, "nobody is on duty"
    posted(w.as_agent, url("service:ticket_claim", ticket.pk))
    assert Ticket.objects.get(pk=ticket.pk).assignee == w.agent


# --- the service desk's public pages and its incoming mail -------------------------------------


def _link_path(body: str, kind: str) -> str:
    found = re.search(rf"https?://[^/\s]+(/service/{kind}/\S+/)", body)
    assert found, f"no {kind} link in the mail"
    return found.group(1)


def public_ticket_form(w):
    from customers.tests.factories import ContactFactory

    # An agent on duty of its own (the desk's steps took theirs off duty).
    w.desk_agent = UserFactory(username="pages_desk_agent", role=Role.SERVICE_AGENT)
    w.as_desk_agent = Client()
    w.as_desk_agent.force_login(w.desk_agent)
    desk_customer = CustomerFactory(owner=w.rep, name="Committed Desk Ltd")
    ContactFactory(customer=desk_customer, name="Li Wei", email="li.wei@committed.example.com")
    mail.outbox.clear()
    form = {
        "name": "Li Wei",
        "email": "li.wei@committed.example.com",
        "kind": "complaint",
        "subject": "Crushed boxes",
        "description": "Two boxes were crushed.",
    }
    response = posted(w.anonymous, url("service:public_ticket_form"), form, status=200)
    w.desk_ticket = Ticket.objects.get(subject="Crushed boxes")
    assert w.desk_ticket.number in response.content.decode()


def ticket_status_page(w):
    (told,) = [message for message in mail.outbox if message.to == ["li.wei@committed.example.com"]]
    w.anonymous.get(_link_path(told.body, "status"))
    posted(w.anonymous, url("service:ticket_status"), {"body": "Photos follow."})
    assert w.desk_ticket.entries.filter(body="Photos follow.").exists()


def satisfaction(w):
    from service.services import ticket_resolve, ticket_start

    ticket_start(actor=w.desk_agent, ticket_id=w.desk_ticket.pk)
    mail.outbox.clear()
    ticket_resolve(actor=w.desk_agent, ticket_id=w.desk_ticket.pk, comment="Replaced the boxes")
    (survey,) = [message for message in mail.outbox if message.to == ["li.wei@committed.example.com"]]
    w.anonymous.get(_link_path(survey.body, "rate"))
    posted(w.anonymous, url("service:satisfaction"), {"score": "4", "comment": "Quick"}, status=200)
    assert SatisfactionRating.objects.get(ticket=w.desk_ticket).score == 4


def _stranger_mail(n):
    from service.inbound import inbound_mail_receive

    raw = f"Message-ID: <pages-{n}@mail.example.com>\nFrom: stranger{n}@elsewhere.example.org\nSubject: Hi\n\nHello\n"
    return inbound_mail_receive(raw=raw.encode())[0]


def inbound_mail_assign(w):
    inbound = _stranger_mail(1)
    posted(w.as_desk_agent, url("service:inbound_mail_assign", inbound.pk), {"ticket_number": w.desk_ticket.number})
    assert InboundMail.objects.get(pk=inbound.pk).status == InboundStatus.THREADED


def inbound_mail_ticket_create(w):
    inbound = _stranger_mail(2)
    data = {"customer": w.desk_ticket.customer_id, "kind": "inquiry", "priority": "normal"}
    posted(w.as_desk_agent, url("service:inbound_mail_ticket_create", inbound.pk), data)
    assert InboundMail.objects.get(pk=inbound.pk).status == InboundStatus.TICKET_OPENED


def inbound_mail_discard(w):
    inbound = _stranger_mail(3)
    posted(w.as_desk_agent, url("service:inbound_mail_discard", inbound.pk), {"reason": "Spam"})
    assert InboundMail.objects.get(pk=inbound.pk).status == InboundStatus.DISCARDED


def segment_create(w):
    from customers.tests.factories import ContactFactory

    w.tea = CustomerFactory(owner=w.rep, name="Committed Tea Ltd")
    ContactFactory(customer=w.tea, name="Zhao Min", email="zhao.min@committed.example.com", marketing_consent=True)
    posted(w.as_rep, url("marketing:segment_create"), {"name": "Committed segment", "statuses": ["active"]})
    w.segment = Segment.objects.get(name="Committed segment")
    assert w.segment.statuses == ["active"] and w.segment.owner == w.rep


def segment_update(w):
    posted(
        w.as_rep,
        url("marketing:segment_update", w.segment.pk),
        {"name": "Committed segment", "statuses": ["active"], "description": "Tea buyers"},
    )
    assert Segment.objects.get(pk=w.segment.pk).description == "Tea buyers"


def _campaign_form(w, **changes):
    data = {
        "name": "Committed campaign",
        "segment": str(w.segment.pk),
        "language": "en",
        "subject_en": "News for {{ customer.name }}",
        "body_en": "Dear {{ contact.name }}, see https://shop.example.com/committed",
        "subject_zh": "",
        "body_zh": "",
        "rate_per_minute": "600",
    }
    return {**data, **changes}


def campaign_create(w):
    posted(w.as_rep, url("marketing:campaign_create"), _campaign_form(w))
    w.campaign = Campaign.objects.get(name="Committed campaign")


def campaign_update(w):
    posted(w.as_rep, url("marketing:campaign_update", w.campaign.pk), _campaign_form(w, name="Committed spring"))
    assert Campaign.objects.get(pk=w.campaign.pk).name == "Committed spring"


def campaign_test_send(w):
    mail.outbox.clear()
    posted(w.as_rep, url("marketing:campaign_test_send", w.campaign.pk))
    (test,) = [message for message in mail.outbox if message.to == [w.rep.email]]
    assert test.subject == "[Test] News for Committed Tea Ltd"


def campaign_schedule(w):
    """Scheduled for now by the manager: it is sent at once (the queue runs inline here)."""
    mail.outbox.clear()
    posted(w.as_manager, url("marketing:campaign_schedule", w.campaign.pk), {"send_at": ""})
    assert Campaign.objects.get(pk=w.campaign.pk).status == "sent"
    assert [message.to for message in mail.outbox] == [["zhao.min@committed.example.com"]]


def campaign_opportunity_create(w):
    data = {
        "customer": str(w.tea.pk),
        "title": "Committed tea deal",
        "amount": "800",
        "expected_close_date": "2027-01-31",
    }
    posted(w.as_rep, url("marketing:campaign_opportunity_create", w.campaign.pk), data)
    deal = Opportunity.objects.get(title="Committed tea deal")
    assert deal.source == "campaign" and CampaignOpportunity.objects.get(opportunity=deal).campaign == w.campaign


def campaign_unschedule(w):
    import datetime

    from django.utils import timezone

    from marketing.services import campaign_create as create
    from marketing.services import campaign_schedule as schedule

    values = _campaign_form(w, name="Committed later")
    values.pop("segment")
    values["rate_per_minute"] = 600
    w.later = create(actor=w.rep, segment=w.segment, **values)
    schedule(actor=w.manager, campaign_id=w.later.pk, send_at=timezone.now() + datetime.timedelta(days=1))
    posted(w.as_manager, url("marketing:campaign_unschedule", w.later.pk))
    assert Campaign.objects.get(pk=w.later.pk).status == "draft"


def campaign_cancel(w):
    posted(w.as_manager, url("marketing:campaign_cancel", w.later.pk), {"reason": "Wrong season"})
    assert Campaign.objects.get(pk=w.later.pk).status == "cancelled"


def import_upload(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.core.imports.models import ImportRun

    csv = "Company;E-mail\nCommitted Import Ltd;hello@committed-import.example.com\n".encode("gb18030")
    upload = SimpleUploadedFile("customers.csv", csv, content_type="text/csv")
    posted(w.as_rep, url("imports:run_create"), {"kind": "customers", "file": upload})
    w.import_run = ImportRun.objects.get(file_name="customers.csv")
    assert w.import_run.total_rows == 1


def import_check(w):
    from crm.core.imports.models import ImportState

    posted(
        w.as_rep,
        url("imports:run_detail", w.import_run.pk),
        {"column_0": "name", "column_1": "email", "policy": "skip"},
    )
    w.import_run.refresh_from_db()
    assert w.import_run.state == ImportState.CHECKED


def import_commit(w):
    posted(w.as_rep, url("imports:run_commit", w.import_run.pk))
    assert Customer.objects.filter(name="Committed Import Ltd", owner=w.rep).exists()


PAGE_POSTS = {
    "customers:customer_create": customer_create,
    "customers:customer_update": customer_update,
    "customers:contact_create": contact_create,
    "customers:contact_update": contact_update,
    "customers:contact_delete": contact_delete,
    "customers:interaction_create": interaction_create,
    "customers:interaction_delete": interaction_delete,
    "customers:customer_reassign": customer_reassign,
    "customers:customer_delete": customer_delete,
    "customers:opportunity_create": opportunity_create,
    "customers:opportunity_update": opportunity_update,
    "customers:opportunity_advance": opportunity_advance,
    "customers:opportunity_lose": opportunity_lose,
    "customers:opportunity_reopen": opportunity_reopen,
    "customers:opportunity_win": opportunity_win,
    "customers:opportunity_assign": opportunity_assign,
    "customers:activity_create": activity_create,
    "customers:activity_reschedule": activity_reschedule,
    "customers:activity_complete": activity_complete,
    "customers:activity_cancel": activity_cancel,
    "contracts:contract_create": contract_create,
    "contracts:contract_update": contract_update,
    "contracts:contract_submit": contract_submit,
    "contracts:contract_reject": contract_reject,
    "contracts:contract_reopen": contract_reopen,
    "contracts:contract_cancel": contract_cancel,
    "contracts:contract_approve": contract_approve,
    "contracts:signing_link_send": signing_link_send,
    "contracts:signing_link_revoke": signing_link_revoke,
    "contracts:contract_sign": contract_sign,
    "contracts:customer_sign_page": customer_sign,
    "orders:product_create": product_create,
    "orders:product_update": product_update,
    "orders:order_create": order_create,
    "orders:order_update": order_update,
    "orders:order_submit": order_submit,
    "orders:order_start_fulfilment": order_start_fulfilment,
    "orders:order_deliver": order_deliver,
    "orders:order_close": order_close,
    "orders:order_approve": order_approve,
    "orders:order_reject": order_reject,
    "orders:order_cancel": order_cancel,
    "orders:quote_create": quote_create,
    "orders:quote_update": quote_update,
    "orders:quote_submit": quote_submit,
    "orders:quote_reject": quote_reject,
    "orders:quote_approve": quote_approve,
    "orders:quote_send": quote_send,
    "orders:quote_public": quote_public,
    "orders:quote_public_decline": quote_public_decline,
    "orders:quote_link_revoke": quote_link_revoke,
    "orders:quote_revise": quote_revise,
    "orders:quote_cancel": quote_cancel,
    "contracts:contract_complete": contract_complete,
    "contracts:contract_terminate": contract_terminate,
    "notifications:notification_read": notification_read,
    "notifications:notification_read_all": notification_read_all,
    "tokens:token_list": token_create,
    "service:ticket_create": ticket_create,
    "service:ticket_start": ticket_start,
    "service:ticket_reply": ticket_reply,
    "service:ticket_update": ticket_update,
    "service:ticket_wait": ticket_wait,
    "service:ticket_resolve": ticket_resolve,
    "service:ticket_close": ticket_close,
    "service:ticket_reopen": ticket_reopen,
    "service:ticket_assign": ticket_assign,
    "service:agent_duty": agent_duty,
    "service:ticket_claim": ticket_claim,
    "service:public_ticket_form": public_ticket_form,
    "service:ticket_status": ticket_status_page,
    "service:satisfaction": satisfaction,
    "service:inbound_mail_assign": inbound_mail_assign,
    "service:inbound_mail_ticket_create": inbound_mail_ticket_create,
    "service:inbound_mail_discard": inbound_mail_discard,
    "marketing:segment_create": segment_create,
    "marketing:segment_update": segment_update,
    "marketing:campaign_create": campaign_create,
    "marketing:campaign_update": campaign_update,
    "marketing:campaign_test_send": campaign_test_send,
    "marketing:campaign_schedule": campaign_schedule,
    "marketing:campaign_opportunity_create": campaign_opportunity_create,
    "marketing:campaign_unschedule": campaign_unschedule,
    "marketing:campaign_cancel": campaign_cancel,
    "imports:run_create": import_upload,
    "imports:run_detail": import_check,
    "imports:run_commit": import_commit,
}


def test_every_write_page_is_in_the_journey():
    pages = set(named_post_pages())
    missing = pages - set(PAGE_POSTS) - NOT_OUR_WRITES
    assert not missing, f"add a step to PAGE_POSTS for: {missing}"
    assert not set(PAGE_POSTS) - pages, "PAGE_POSTS names pages that no longer exist"


@pytest.mark.django_db(transaction=True)
def test_every_write_page_commits_outside_any_transaction():
    default_approval_rules()  # a transactional test starts from a flushed database

    def logged_in(user):
        client = Client()
        client.force_login(user)
        return client

    w = SimpleNamespace(
        rep=UserFactory(username="pages_rep", role=Role.SALES_REP),
        other_rep=UserFactory(username="pages_other_rep", role=Role.SALES_REP),
        manager=UserFactory(username="pages_manager", role=Role.SALES_MANAGER),
        signatory=UserFactory(username="pages_signatory", role=Role.SIGNATORY),
        anonymous=Client(),
    )
    w.as_rep, w.as_manager, w.as_signatory = logged_in(w.rep), logged_in(w.manager), logged_in(w.signatory)
    for name, step in PAGE_POSTS.items():
        try:
            step(w)
        except Exception as error:
            pytest.fail(f"{name}: {type(error).__name__}: {error}")  # later steps build on this one
