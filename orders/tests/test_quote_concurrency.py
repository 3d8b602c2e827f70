"""Two sales managers decide on one quote's discount at the same moment: exactly one
decision is taken, the other is refused (real threads, each with its own connection)."""

from decimal import Decimal

import pytest

from crm.core.audit import audit_chain_verify
from crm.core.exceptions import TransitionNotAllowed
from crm.core.roles import Role
from crm.core.tests.concurrency import race
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from orders import services
from orders.choices import QuoteStatus as QS
from orders.models import Quote, QuoteDiscountLimit
from orders.tests.factories import ProductFactory, events_about, opportunity_for, quote_for, quote_line

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending():
    QuoteDiscountLimit.objects.update_or_create(pk=1, defaults={"line_percent": 10, "total_percent": 10})
    rep = UserFactory(username="quote_race_rep", role=Role.SALES_REP)
    managers = [UserFactory(username=f"quote_race_manager_{n}", role=Role.SALES_MANAGER) for n in range(2)]
    opportunity = opportunity_for(rep, CustomerFactory(owner=rep))
    product = ProductFactory(actor=managers[0], unit_price=Decimal("1000.00"))
    quote = quote_for(rep, opportunity, lines=[quote_line(product, discount_percent=25)])
    services.quote_submit(actor=rep, quote_id=quote.pk)
    return quote, managers


def test_two_managers_approving_at_once_make_one_approval(pending):
    quote, managers = pending
    outcomes = race(*[lambda m=m: services.quote_approve(actor=m, quote_id=quote.pk) for m in managers])
    approved = [outcome for outcome in outcomes if isinstance(outcome, Quote)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, TransitionNotAllowed)]
    assert len(approved) == 1 and len(refused) == 1, outcomes
    assert refused[0].message == "A quote that is approved cannot become approved."
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == QS.APPROVED and quote.approved_by == approved[0].approved_by
    assert events_about(quote, "quote.approved").count() == 1
    assert audit_chain_verify() is None


def test_an_approval_racing_a_rejection_takes_exactly_one_of_them(pending):
    quote, (first, second) = pending
    outcomes = race(
        lambda: services.quote_approve(actor=first, quote_id=quote.pk),
        lambda: services.quote_reject(actor=second, quote_id=quote.pk, comment="Too deep"),
    )
    decided = [outcome for outcome in outcomes if isinstance(outcome, Quote)]
    assert len(decided) == 1 and isinstance(next(o for o in outcomes if o not in decided), TransitionNotAllowed)
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == decided[0].status
    decisions = events_about(quote, "quote.approved").count() + events_about(quote, "quote.rejected").count()
    assert decisions == 1
