"""Quotes: totals, each step and its refusals, the link, acceptance into a contract draft,
expiry and revisions (orders/services.py, orders/workflow.py)."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.models import ContractTemplate
from crm.core.context import acting_from
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.models import Notification
from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from crm.core.workflow import SYSTEM
from customers.choices import OpportunityStage
from customers.models import Opportunity
from customers.tests.factories import ContactFactory
from orders import services
from orders.choices import QuoteStatus as QS
from orders.models import Quote, QuoteDiscountLimit, QuoteLink, quote_line_amounts
from orders.tests.factories import (
    ProductFactory,
    assert_audited,
    opportunity_for,
    quote_for,
    quote_line,
    quote_sent,
    reload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def opportunity(rep, customer):
    return opportunity_for(rep, customer)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and deliver what it left for after the commit (mail, notifications)."""

    def call(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return call


@pytest.fixture
def limits(db):
    QuoteDiscountLimit.objects.update_or_create(
        pk=1, defaults={"line_percent": Decimal("10"), "total_percent": Decimal("10")}
    )


# --- totals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "tax", "net", "tax_amount", "gross", "discount_amount"),
    [
        ("1", "1000.00", "0", "13", "1000.00", "130.00", "1130.00", "0.00"),
        ("3", "19.99", "0", "13", "59.97", "7.80", "67.77", "0.00"),  # 7.7961 -> 7.80
        ("1", "0.05", "10", "0", "0.05", "0.00", "0.05", "0.00"),  # 0.045 rounds half up to 0.05
        ("2", "10.25", "0", "6", "20.50", "1.23", "21.73", "0.00"),  # 1.23 exactly
        ("1", "0.10", "0", "5", "0.10", "0.01", "0.11", "0.00"),  # 0.005 -> 0.01 (half up, not even)
        ("2.5", "99.99", "12.5", "13", "218.73", "28.43", "247.16", "31.25"),
        ("1", "500.00", "100", "13", "0.00", "0.00", "0.00", "500.00"),
    ],
)
def test_line_amounts_round_half_up_to_cents(quantity, price, discount, tax, net, tax_amount, gross, discount_amount):
    amounts = quote_line_amounts(Decimal(quantity), Decimal(price), Decimal(discount), Decimal(tax))
    assert amounts["net"] == Decimal(net)
    assert amounts["tax"] == Decimal(tax_amount)
    assert amounts["gross"] == Decimal(gross)
    assert amounts["discount"] == Decimal(discount_amount)


def test_document_totals_are_the_sum_of_the_lines(rep, opportunity, manager, limits):
    pump = ProductFactory(actor=manager, unit_price=Decimal("1000.00"))
    valve = ProductFactory(actor=manager, unit_price=Decimal("19.99"))
    quote = quote_for(
        rep,
        opportunity,
        lines=[quote_line(pump, 2, discount_percent=5), quote_line(valve, 3, tax_rate="6")],
    )
    # pump: 2000 - 5% = 1900.00 net, 247.00 tax; valve: 59.97 net, 3.60 tax (3.5982)
    assert quote.net_total == Decimal("1959.97")
    assert quote.tax_total == Decimal("250.60")
    assert quote.gross_total == Decimal("2210.57")
    assert quote.discount_total == Decimal("100.00")
    assert quote.approval_reasons == []
    assert quote.number.startswith(f"QT-{timezone.localdate().year}-")
    assert len(quote.number) == len("QT-2026-000001")
    assert_audited(quote, "quote.created", actor=rep, extra={"gross": "2210.57"}, parent=opportunity)


def test_the_tax_rate_defaults_from_settings(rep, opportunity, manager, settings):
    settings.DEFAULT_TAX_RATE = "9"
    pump = ProductFactory(actor=manager, unit_price=Decimal("100.00"))
    quote = quote_for(rep, opportunity, lines=[{"product": pump, "quantity": Decimal(1)}])
    line = quote.lines.get()
    assert line.tax_rate == Decimal("9")
    assert quote.gross_total == Decimal("109.00")


def test_unit_price_is_copied_from_the_product_and_kept(rep, opportunity, manager):
    pump = ProductFactory(actor=manager, unit_price=Decimal("1000.00"))
    quote = quote_for(rep, opportunity, lines=[quote_line(pump)])
    services.product_update(actor=manager, product_id=pump.pk, unit_price=Decimal("1200.00"))
    line = quote.lines.get()
    quote = services.quote_update(
        actor=rep,
        quote_id=quote.pk,
        lines=[quote_line(pump, 2, id=line.pk)],
        title=quote.title,
        currency="CNY",
        language="en",
        valid_until=quote.valid_until,
        terms="",
    )
    assert quote.lines.get().unit_price == Decimal("1000.00")
    assert quote.net_total == Decimal("2000.00")


def test_terms_come_from_the_language_default_template(rep, opportunity):
    quote = quote_for(rep, opportunity, language="zh-hans")
    assert "付款" in quote.terms
    assert "Payment" in quote_for(rep, opportunity, language="en").terms


def test_a_quote_needs_an_opportunity_the_writer_may_change(other_rep, opportunity):
    with pytest.raises(DomainError, match="opportunity"):
        quote_for(other_rep, opportunity)


def test_a_product_in_another_currency_is_refused(rep, opportunity, manager):
    dollars = ProductFactory(actor=manager, currency="USD")
    with pytest.raises(DomainError, match="USD"):
        quote_for(rep, opportunity, lines=[quote_line(dollars)])


# --- approval ---------------------------------------------------------------------------------


def test_a_line_discount_above_the_limit_needs_approval(run, rep, manager, opportunity, limits):
    quote = quote_for(rep, opportunity, lines=[quote_line(ProductFactory(actor=manager), discount_percent=15)])
    assert quote.approval_reasons and "10%" in quote.approval_reasons[0]
    with pytest.raises(TransitionNotAllowed, match="approve"):
        services.quote_send(actor=rep, quote_id=quote.pk)
    quote = run(services.quote_submit, actor=rep, quote_id=quote.pk)
    assert quote.status == QS.PENDING_APPROVAL
    assert_audited(quote, "quote.submitted", actor=rep)
    assert Notification.objects.filter(recipient=manager, target_url=quote.get_absolute_url()).exists()
    quote = services.quote_approve(actor=manager, quote_id=quote.pk, comment="Strategic customer")
    assert quote.status == QS.APPROVED and quote.approved_by == manager
    assert_audited(quote, "quote.approved", actor=manager, extra={"comment": "Strategic customer"})
    quote, _url = services.quote_send(actor=rep, quote_id=quote.pk)
    assert quote.status == QS.SENT


def test_the_total_discount_limit_counts_too(rep, manager, opportunity):
    services.quote_discount_limit_set(actor=UserFactory(is_superuser=True), line_percent=50, total_percent=5)
    product = ProductFactory(actor=manager)
    quote = quote_for(rep, opportunity, lines=[quote_line(product, discount_percent=8)])
    assert len(quote.approval_reasons) == 1 and "total" in quote.approval_reasons[0]


def test_within_the_limits_no_approval_is_asked(rep, opportunity, limits):
    quote = quote_for(rep, opportunity)
    with pytest.raises(TransitionNotAllowed, match="within the limits"):
        services.quote_submit(actor=rep, quote_id=quote.pk)


def test_nobody_approves_their_own_discount(manager, customer, limits):
    customer.owner = manager
    customer.save()
    opportunity = opportunity_for(manager, customer)
    quote = quote_for(manager, opportunity, lines=[quote_line(ProductFactory(actor=manager), discount_percent=20)])
    quote = services.quote_submit(actor=manager, quote_id=quote.pk)
    with pytest.raises(TransitionNotAllowed, match="own quote"):
        services.quote_approve(actor=manager, quote_id=quote.pk)


def test_a_rep_may_not_approve(rep, other_rep, manager, opportunity, limits):
    quote = quote_for(rep, opportunity, lines=[quote_line(ProductFactory(actor=manager), discount_percent=20)])
    quote = services.quote_submit(actor=rep, quote_id=quote.pk)
    other_rep.is_superuser = False
    with pytest.raises(DomainError):
        services.quote_approve(actor=other_rep, quote_id=quote.pk)


def test_rejecting_returns_to_draft_with_a_reason(run, rep, manager, opportunity, limits):
    quote = quote_for(rep, opportunity, lines=[quote_line(ProductFactory(actor=manager), discount_percent=20)])
    services.quote_submit(actor=rep, quote_id=quote.pk)
    with pytest.raises(DomainError, match="why"):
        services.quote_reject(actor=manager, quote_id=quote.pk, comment=" ")
    quote = run(services.quote_reject, actor=manager, quote_id=quote.pk, comment="Too deep")
    assert quote.status == QS.DRAFT
    assert_audited(quote, "quote.rejected", actor=manager, extra={"comment": "Too deep"})
    assert Notification.objects.filter(recipient=rep, target_url=quote.get_absolute_url()).exists()


def test_an_approved_quote_cannot_be_approved_again(rep, manager, opportunity, limits):
    quote = quote_for(rep, opportunity, lines=[quote_line(ProductFactory(actor=manager), discount_percent=20)])
    services.quote_submit(actor=rep, quote_id=quote.pk)
    services.quote_approve(actor=manager, quote_id=quote.pk)
    second = UserFactory(role=Role.SALES_MANAGER)
    with pytest.raises(TransitionNotAllowed, match="approved cannot become approved"):
        services.quote_approve(actor=second, quote_id=quote.pk)


# --- sending and the link -----------------------------------------------------------------------


def test_sending_mails_the_pdf_and_a_one_time_link(run, rep, customer, opportunity):
    contact = ContactFactory(customer=customer, email="buyer@tea.example.com")
    quote = quote_for(rep, opportunity)
    quote, url = run(services.quote_send, actor=rep, quote_id=quote.pk, contact_id=contact.pk)
    assert quote.status == QS.SENT and quote.sent_to == "buyer@tea.example.com"
    assert_audited(quote, "quote.sent", actor=rep, extra={"email": "buyer@tea.example.com"})
    message = next(message for message in mail.outbox if message.to == ["buyer@tea.example.com"])
    assert url in message.body
    (filename, content, mimetype) = message.attachments[0]
    assert filename == f"{quote.number}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert not QuoteLink.objects.filter(token_sha256=token).exists()  # only its hash is kept


def test_sending_to_a_contact_of_another_customer_is_refused(rep, opportunity):
    stranger = ContactFactory(email="x@example.com")
    quote = quote_for(rep, opportunity)
    with pytest.raises(DomainError, match="contact"):
        services.quote_send(actor=rep, quote_id=quote.pk, contact_id=stranger.pk)
    assert reload(quote).status == QS.DRAFT


def test_accepting_drafts_the_contract_and_moves_the_opportunity(run, rep, customer, opportunity):
    quote, token = quote_sent(rep, opportunity)
    link = QuoteLink.objects.get(quote=quote)
    mail.outbox.clear()
    with acting_from("web", ip="203.0.113.9", user_agent="Firefox/140"):
        quote = run(services.quote_accept, link_id=link.pk, full_name="  Zhao   Lei ", accepted=True)
    assert quote.status == QS.ACCEPTED and quote.accepted_name == "Zhao Lei"
    assert quote.decided_ip == "203.0.113.9" and quote.decided_user_agent == "Firefox/140"
    contract = quote.contract
    assert contract.status == ContractStatus.DRAFT
    assert contract.amount == quote.gross_total == Decimal("1130.00")
    assert contract.customer == customer and contract.currency == "CNY" and contract.owner == rep
    assert quote.number in contract.body and "1,130.00" in contract.body
    assert Opportunity.objects.get(pk=opportunity.pk).stage == OpportunityStage.NEGOTIATION
    assert Notification.objects.filter(recipient=rep, verb__contains="accepted").exists()
    assert reload(link).used_at is not None
    with pytest.raises(DomainError, match="already used"):
        services.quote_accept(link_id=link.pk, full_name="Zhao Lei", accepted=True)


def test_the_contract_body_uses_the_contract_template_with_the_annex(rep, opportunity):
    ContractTemplate.objects.create(name="Supply", body="Supply for ${customer_name}, ${amount} ${currency}.")
    quote, _token = quote_sent(rep, opportunity)
    quote = services.quote_accept(link_id=quote.links.get().pk, full_name="Zhao Lei", accepted=True)
    body = quote.contract.body
    assert body.startswith("Supply for Hangzhou Tea Co, 1,130.00 CNY.")
    assert f"Annex: quote {quote.number}" in body


def test_accepting_needs_a_name_and_the_tick(rep, opportunity):
    quote, _token = quote_sent(rep, opportunity)
    link = quote.links.get()
    with pytest.raises(DomainError, match="name"):
        services.quote_accept(link_id=link.pk, full_name=" ", accepted=True)
    with pytest.raises(DomainError, match="Tick"):
        services.quote_accept(link_id=link.pk, full_name="Zhao Lei", accepted=False)
    assert reload(quote).status == QS.SENT


def test_declining_records_the_reason_and_tells_the_owner(run, rep, opportunity):
    quote, _token = quote_sent(rep, opportunity)
    with pytest.raises(DomainError, match="why"):
        services.quote_decline(link_id=quote.links.get().pk, reason="")
    quote = run(services.quote_decline, link_id=quote.links.get().pk, reason="Too expensive")
    assert quote.status == QS.DECLINED and quote.decline_reason == "Too expensive" and quote.contract is None
    assert Notification.objects.filter(recipient=rep, verb__contains="declined").exists()


def test_a_revoked_or_expired_link_no_longer_works(rep, opportunity):
    quote, _token = quote_sent(rep, opportunity)
    link = quote.links.get()
    services.quote_link_revoke(actor=rep, quote_id=quote.pk, link_id=link.pk)
    assert_audited(quote, "quote.link_revoked", actor=rep)
    with pytest.raises(DomainError, match="withdrawn"):
        services.quote_accept(link_id=link.pk, full_name="Zhao Lei", accepted=True)
    with pytest.raises(DomainError, match="already used, revoked or expired"):
        services.quote_link_revoke(actor=rep, quote_id=quote.pk, link_id=link.pk)
    QuoteLink.objects.filter(pk=link.pk).update(revoked_at=None, expires_at=timezone.now())
    with pytest.raises(DomainError, match="expired"):
        services.quote_accept(link_id=link.pk, full_name="Zhao Lei", accepted=True)


def test_activating_the_contract_wins_the_opportunity(run, rep, manager, signatory, opportunity):
    quote, _token = quote_sent(rep, opportunity)
    quote = services.quote_accept(link_id=quote.links.get().pk, full_name="Zhao Lei", accepted=True)
    contract = run(activate, contract=quote.contract, owner=rep, manager=manager, signatory=signatory)
    assert contract.status == ContractStatus.ACTIVE
    assert Opportunity.objects.get(pk=opportunity.pk).stage == OpportunityStage.WON


def activate(*, contract, owner, manager, signatory):
    """Take the drafted contract to active as people do: approved, signed by both parties."""
    from contracts import selectors as contract_selectors
    from contracts import services as contract_services
    from contracts import signatures
    from contracts.models import ApprovalRule, Contract
    from contracts.tests.factories import default_approval_rules
    from crm.core.tests.factories import PASSWORD

    if not ApprovalRule.objects.exists():
        default_approval_rules()
    contract = contract_services.contract_submit(actor=owner, contract_id=contract.pk)
    for _level, role in contract_selectors.approval_levels(contract.amount):
        decider = manager if role == Role.SALES_MANAGER else UserFactory(role=role)
        contract_services.contract_approve(actor=decider, contract_id=contract.pk, comment="OK")
    signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)
    _link, url = signatures.signing_link_send(actor=owner, contract_id=contract.pk)
    signatures.contract_sign_customer(token=url.rstrip("/").rsplit("/", 1)[-1], full_name="Zhao Lei", accepted=True)
    return Contract.objects.get(pk=contract.pk)


# --- revisions, expiry, cancelling ----------------------------------------------------------


def test_revising_a_sent_quote_makes_revision_2_which_supersedes_it_when_sent(rep, opportunity):
    first, _token = quote_sent(rep, opportunity)
    revision = services.quote_revise(actor=rep, quote_id=first.pk)
    assert (revision.number, revision.revision, revision.supersedes) == (first.number, 2, first)
    assert revision.status == QS.DRAFT and str(revision) == f"{first.number} r2"
    assert revision.gross_total == first.gross_total and revision.lines.count() == 1
    assert_audited(revision, "quote.revised", actor=rep)
    with pytest.raises(TransitionNotAllowed, match="already being revised"):
        services.quote_revise(actor=rep, quote_id=first.pk)
    assert reload(first).status == QS.SENT  # still open until the revision goes out
    services.quote_send(actor=rep, quote_id=revision.pk)
    first = reload(first)
    assert first.status == QS.SUPERSEDED
    assert not first.links.get().is_usable()


def test_a_draft_cannot_be_revised(rep, opportunity):
    quote = quote_for(rep, opportunity)
    with pytest.raises(TransitionNotAllowed):
        services.quote_revise(actor=rep, quote_id=quote.pk)


def test_cancelling_needs_a_reason_and_withdraws_the_link(rep, opportunity):
    quote, _token = quote_sent(rep, opportunity)
    with pytest.raises(DomainError, match="why"):
        services.quote_cancel(actor=rep, quote_id=quote.pk, reason="")
    quote = services.quote_cancel(actor=rep, quote_id=quote.pk, reason="Customer merged")
    assert quote.status == QS.CANCELLED and not quote.links.get().is_usable()
    with pytest.raises(TransitionNotAllowed):
        services.quote_cancel(actor=rep, quote_id=quote.pk, reason="again")


def test_expire_quotes_expires_sent_quotes_past_their_date(rep, opportunity):
    past, _token = quote_sent(rep, opportunity)
    current, _token = quote_sent(rep, opportunity)
    Quote.objects.filter(pk=past.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    call_command("expire_quotes", "--dry-run")
    assert reload(past).status == QS.SENT
    call_command("expire_quotes")
    assert reload(past).status == QS.EXPIRED and reload(current).status == QS.SENT
    assert_audited(reload(past), "quote.expired", actor=None)
    assert not reload(past).links.get().is_usable()
    with pytest.raises(TransitionNotAllowed, match="valid until"):
        services.quote_expire(actor=SYSTEM, quote_id=current.pk)


def test_expire_quotes_refuses_unknown_options():
    with pytest.raises((CommandError, SystemExit)):
        call_command("expire_quotes", "--older-than", "x")


def test_a_person_cannot_expire_a_quote(rep, opportunity):
    quote, _token = quote_sent(rep, opportunity)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(TransitionNotAllowed, match="by itself"):
        services.quote_expire(actor=rep, quote_id=quote.pk)


def test_only_a_draft_is_edited(rep, opportunity):
    quote, _token = quote_sent(rep, opportunity)
    with pytest.raises(TransitionNotAllowed, match="draft"):
        services.quote_update(
            actor=rep, quote_id=quote.pk, lines=[], title="x", currency="CNY", language="en", valid_until=None, terms=""
        )
