"""The catalog and order services: what each writes, what it refuses, and the audit event
it records. Contracts are taken to active through the real contract and signing services."""

import datetime
import random
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts import services as contract_services
from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.tests.factories import ContractFactory, approved_contract
from crm.core.audit import audit_chain_verify
from crm.core.exceptions import DomainError, TransitionNotAllowed
from customers.tests.factories import CustomerFactory
from orders import services
from orders.choices import OrderStatus as S
from orders.demo import CATALOG, demo_orders_seed
from orders.models import Order, OrderLine, Product
from orders.tests.factories import (
    END,
    START,
    ProductFactory,
    active_contract,
    assert_audited,
    events_about,
    line,
    order_for,
    reload,
)

pytestmark = pytest.mark.django_db

TODAY_IN_2026 = datetime.date(2026, 6, 15)


@pytest.fixture
def u(rep, other_rep, manager, finance, signatory):
    return SimpleNamespace(
        rep=rep,
        other_rep=other_rep,
        manager=manager,
        finance=finance,
        signatory=signatory,
        customer=CustomerFactory(owner=rep),
        other_customer=CustomerFactory(owner=other_rep),
    )


@pytest.fixture
def contract(u):
    return active_contract(u.rep, u.customer, "50000.00", manager=u.manager, signatory=u.signatory)


def contract_used(contract) -> Decimal:
    return Contract.objects.get(pk=contract.pk).ordered_amount


# --- catalog ---------------------------------------------------------------------------------


def test_product_create_records_every_field_given(manager):
    product = services.product_create(
        actor=manager, sku="VLV-20", name="Ball valve DN20", unit_price=Decimal("85.5"), currency="CNY"
    )

    assert Product.objects.get(pk=product.pk).unit_price == Decimal("85.50")
    assert_audited(
        product,
        "product.created",
        actor=manager,
        changes={
            "currency": [None, "CNY"],
            "is_active": [None, True],
            "name": [None, "Ball valve DN20"],
            "sku": [None, "VLV-20"],
            "unit_price": [None, "85.50"],
        },
    )


def test_product_create_refuses_a_rep(rep):
    with pytest.raises(DomainError, match="may not add products"):
        services.product_create(actor=rep, sku="X-1", name="X", unit_price=Decimal("1"))
    assert not Product.objects.exists()


def test_product_create_validates_the_fields(manager):
    with pytest.raises(ValidationError):
        services.product_create(actor=manager, sku="NEG-1", name="Negative", unit_price=Decimal("-1"))
    with pytest.raises(ValidationError):
        services.product_create(actor=manager, sku="CUR-1", name="Bad currency", unit_price=1, currency="yuan")


def test_product_update_records_what_changed(manager, pump):
    services.product_update(actor=manager, product_id=pump.pk, unit_price=Decimal("1200"), is_active=False)

    pump = reload(pump)
    assert (pump.unit_price, pump.is_active) == (Decimal("1200.00"), False)
    assert_audited(
        pump,
        "product.updated",
        actor=manager,
        changes={"unit_price": ["1000.00", "1200.00"], "is_active": [True, False]},
    )


def test_product_update_without_a_change_records_nothing(manager, pump):
    before = events_about(pump).count()
    services.product_update(actor=manager, product_id=pump.pk, unit_price=Decimal("1000"))
    assert events_about(pump).count() == before


def test_product_update_refuses_a_rep(rep, pump):
    with pytest.raises(DomainError, match="may not change products"):
        services.product_update(actor=rep, product_id=pump.pk, unit_price=Decimal("1"))
    assert reload(pump).unit_price == Decimal("1000.00")


# --- order_create / order_update ----------------------------------------------------------------


def test_order_create_against_a_contract(u, contract, pump):
    order = services.order_create(
        actor=u.rep,
        customer_id=u.customer.pk,
        contract_id=contract.pk,
        order_date=TODAY_IN_2026,
        lines=[line(pump, 3, 10), line(pump, 1)],
        notes="Deliver to gate 4",
    )

    order = reload(order)
    assert order.number.startswith("ORD-")
    assert (order.status, order.owner, order.currency, order.total) == (S.DRAFT, u.rep, "CNY", Decimal("3700.00"))
    assert [(str(x.quantity), str(x.unit_price), str(x.line_total)) for x in order.lines.all()] == [
        ("3.00", "1000.00", "2700.00"),
        ("1.00", "1000.00", "1000.00"),
    ]
    assert contract_used(contract) == Decimal("3700.00")
    assert_audited(
        order,
        "order.created",
        actor=u.rep,
        parent=contract,
        changes={
            "contract": [None, str(contract)],
            "currency": [None, "CNY"],
            "customer": [None, str(u.customer)],
            "notes": [None, "Deliver to gate 4"],
            "order_date": [None, "2026-06-15"],
        },
        extra={
            "total": "3700.00",
            "lines": [
                ["HP-100", "3", "1000.00", "10", "2700.00"],
                ["HP-100", "1", "1000.00", "0", "1000.00"],
            ],
        },
    )


def test_order_create_without_a_contract_hangs_off_the_customer(u, pump):
    order = services.order_create(actor=u.rep, customer_id=u.customer.pk, lines=[line(pump, 2)])

    assert order.contract is None
    assert order.order_date == timezone.localdate()
    assert_audited(order, "order.created", actor=u.rep, parent=u.customer, extra={"total": "2000.00"})


def test_order_create_refuses_a_role_without_ordering(u, pump):
    with pytest.raises(DomainError, match="may not place orders"):
        services.order_create(actor=u.finance, customer_id=u.customer.pk, lines=[line(pump)])
    assert not Order.objects.exists()


def test_order_create_refuses_a_customer_the_rep_may_not_see(u, pump):
    with pytest.raises(DomainError) as error:
        services.order_create(actor=u.rep, customer_id=u.other_customer.pk, lines=[line(pump)])
    assert error.value.field == "customer"


def test_order_create_refuses_a_contract_the_rep_may_not_see(u, pump):
    theirs = active_contract(u.other_rep, u.other_customer, "10000", manager=u.manager, signatory=u.signatory)
    with pytest.raises(DomainError) as error:
        services.order_create(actor=u.rep, customer_id=u.customer.pk, contract_id=theirs.pk, lines=[line(pump)])
    assert error.value.field == "contract"


def test_order_create_needs_a_line(u):
    with pytest.raises(DomainError, match="at least one line"):
        services.order_create(actor=u.rep, customer_id=u.customer.pk, lines=[])


def test_order_create_refuses_a_product_priced_in_another_currency(u, manager):
    dollars = ProductFactory(actor=manager, currency="USD", unit_price=Decimal("10"))
    with pytest.raises(DomainError, match="priced in USD"):
        services.order_create(actor=u.rep, customer_id=u.customer.pk, lines=[line(dollars)])


def test_order_update_changes_a_draft_and_records_header_and_lines(u, contract, pump, manager):
    valve = ProductFactory(actor=manager, sku="VLV-20", unit_price=Decimal("50.00"))
    order = order_for(u.rep, u.customer, contract=contract, lines=[line(pump, 2)], order_date=TODAY_IN_2026)
    kept = order.lines.get()

    services.order_update(
        actor=u.rep,
        order_id=order.pk,
        contract_id=contract.pk,
        order_date=datetime.date(2026, 7, 1),
        notes="Rush",
        lines=[line(pump, 3, id=kept.pk), line(valve, 4)],
    )

    order = reload(order)
    assert order.total == Decimal("3200.00")
    assert contract_used(contract) == Decimal("3200.00")
    assert_audited(
        order,
        "order.updated",
        actor=u.rep,
        parent=contract,
        changes={
            "notes": ["", "Rush"],
            "order_date": ["2026-06-15", "2026-07-01"],
            "lines": [
                [["HP-100", "2.00", "1000.00", "0.00", "2000.00"]],
                [["HP-100", "3", "1000.00", "0", "3000.00"], ["VLV-20", "4", "50.00", "0", "200.00"]],
            ],
        },
        extra={"total": "3200.00"},
    )


def test_order_update_moves_the_amount_between_contracts(u, contract, pump):
    second = active_contract(u.rep, u.customer, "8000", manager=u.manager, signatory=u.signatory)
    order = order_for(u.rep, u.customer, contract=contract, lines=[line(pump, 5)])
    assert (contract_used(contract), contract_used(second)) == (Decimal("5000.00"), Decimal("0.00"))

    services.order_update(actor=u.rep, order_id=order.pk, contract_id=second.pk, lines=[line(pump, 5)])
    assert (contract_used(contract), contract_used(second)) == (Decimal("0.00"), Decimal("5000.00"))

    services.order_update(actor=u.rep, order_id=order.pk, contract_id=None, lines=[line(pump, 5)])
    assert (contract_used(contract), contract_used(second)) == (Decimal("0.00"), Decimal("0.00"))
    assert reload(order).contract is None


def test_order_update_refuses_an_order_that_is_no_longer_a_draft(u, contract, pump):
    order = order_for(u.rep, u.customer, contract=contract, lines=[line(pump)])
    services.order_submit(actor=u.rep, order_id=order.pk)
    with pytest.raises(TransitionNotAllowed, match="Only a draft"):
        services.order_update(actor=u.rep, order_id=order.pk, contract_id=contract.pk, lines=[line(pump, 2)])
    assert reload(order).total == Decimal("1000.00")


def test_order_update_refuses_another_reps_order(u, pump):
    order = order_for(u.rep, u.customer, lines=[line(pump)])
    with pytest.raises(DomainError, match="does not exist"):
        services.order_update(actor=u.other_rep, order_id=order.pk, lines=[line(pump, 9)])


# --- prices are snapshots -------------------------------------------------------------------------


def test_a_line_keeps_its_price_when_the_product_price_changes(u, pump, manager):
    order = order_for(u.rep, u.customer, lines=[line(pump, 2)])
    services.product_update(actor=manager, product_id=pump.pk, unit_price=Decimal("1500"))

    kept = order.lines.get()
    services.order_update(
        actor=u.rep, order_id=order.pk, lines=[line(pump, 3, id=kept.pk), line(pump, 1)], notes="more"
    )

    prices = [(x.unit_price, x.line_total) for x in reload(order).lines.order_by("id")]
    assert prices == [(Decimal("1000.00"), Decimal("3000.00")), (Decimal("1500.00"), Decimal("1500.00"))]
    assert reload(order).total == Decimal("4500.00")


def test_a_line_whose_product_is_swapped_takes_the_new_products_price(u, pump, manager):
    valve = ProductFactory(actor=manager, unit_price=Decimal("40.00"))
    order = order_for(u.rep, u.customer, lines=[line(pump)])
    kept = order.lines.get()
    services.order_update(actor=u.rep, order_id=order.pk, lines=[line(valve, 1, id=kept.pk)])
    assert reload(order).lines.get().unit_price == Decimal("40.00")


def test_an_inactive_product_cannot_be_ordered(u, pump, manager):
    services.product_update(actor=manager, product_id=pump.pk, is_active=False)
    with pytest.raises(DomainError, match="no longer sold") as error:
        order_for(u.rep, u.customer, lines=[line(pump)])
    assert error.value.field == "lines"
    assert not Order.objects.exists()


def test_an_existing_line_of_a_product_no_longer_sold_may_stay(u, pump, manager):
    order = order_for(u.rep, u.customer, lines=[line(pump)])
    services.product_update(actor=manager, product_id=pump.pk, is_active=False)
    kept = order.lines.get()

    services.order_update(actor=u.rep, order_id=order.pk, lines=[line(pump, 2, id=kept.pk)])
    assert reload(order).total == Decimal("2000.00")
    with pytest.raises(DomainError, match="no longer sold"):
        services.order_update(actor=u.rep, order_id=order.pk, lines=[line(pump, 2, id=kept.pk), line(pump)])


# --- quantities and discounts ------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_quantity_must_be_above_zero(u, pump, quantity):
    with pytest.raises(DomainError, match="above zero"):
        order_for(u.rep, u.customer, lines=[line(pump, quantity)])


@pytest.mark.parametrize("discount", ["-0.01", "100.01"])
def test_discount_must_be_between_0_and_100(u, pump, discount):
    with pytest.raises(DomainError, match="between 0 and 100"):
        order_for(u.rep, u.customer, lines=[line(pump, 1, discount)])


def test_a_full_discount_is_allowed(u, pump):
    order = order_for(u.rep, u.customer, lines=[line(pump, 1, 100)])
    assert order.total == Decimal("0.00")


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"quantity": 0}, "order_line_quantity_positive"),
        ({"quantity": -2}, "order_line_quantity_positive"),
        ({"discount_percent": -1}, "order_line_discount_range"),
        ({"discount_percent": Decimal("100.5")}, "order_line_discount_range"),
        ({"unit_price": -1}, "order_line_price_not_negative"),
    ],
)
def test_the_database_enforces_line_quantity_and_discount(u, pump, values, constraint):
    order = order_for(u.rep, u.customer, lines=[line(pump)])
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        OrderLine.objects.filter(order=order).update(**values)


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"total": -1}, "order_total_not_negative"),
        ({"status": "shipped"}, "order_status_valid"),
        ({"currency": "cny"}, "order_currency_code"),
    ],
)
def test_the_database_enforces_order_checks(u, pump, values, constraint):
    order = order_for(u.rep, u.customer, lines=[line(pump)])
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(**values)


# --- the contract fit ----------------------------------------------------------------------------


def test_a_contract_of_another_customer_is_refused(u, contract, pump):
    second_customer = CustomerFactory(owner=u.rep)
    with pytest.raises(DomainError, match="another customer") as error:
        order_for(u.rep, second_customer, contract=contract, lines=[line(pump)])
    assert error.value.field == "contract"


def test_an_approved_but_unsigned_contract_is_refused(u, pump):
    approved = approved_contract(approvers=[u.manager], owner=u.rep, customer=u.customer, amount=Decimal("50000"))
    assert approved.status == ContractStatus.APPROVED
    with pytest.raises(DomainError, match=f"Contract {approved.number} is approved; orders need an active contract"):
        order_for(u.rep, u.customer, contract=approved, lines=[line(pump)])


def test_a_draft_contract_is_refused(u, pump):
    draft = ContractFactory(owner=u.rep, customer=u.customer)
    with pytest.raises(DomainError, match="is draft; orders need an active contract"):
        order_for(u.rep, u.customer, contract=draft, lines=[line(pump)])


def test_an_expired_contract_is_refused(u, contract, pump):
    contract_services.contract_expire(contract_id=contract.pk, today=datetime.date(2027, 1, 5))
    with pytest.raises(DomainError, match="is expired; orders need an active contract"):
        order_for(u.rep, u.customer, contract=contract, lines=[line(pump)], order_date=TODAY_IN_2026)


def test_a_terminated_contract_is_refused(u, contract, pump):
    contract_services.contract_terminate(actor=u.manager, contract_id=contract.pk, reason="Breach")
    with pytest.raises(DomainError, match="is terminated; orders need an active contract"):
        order_for(u.rep, u.customer, contract=contract, lines=[line(pump)])


@pytest.mark.parametrize("order_date", [START - datetime.timedelta(days=1), END + datetime.timedelta(days=1)])
def test_an_order_date_outside_the_contract_period_is_refused(u, contract, pump, order_date):
    with pytest.raises(DomainError, match="within the contract period, 2026-01-01 to 2026-12-31") as error:
        order_for(u.rep, u.customer, contract=contract, lines=[line(pump)], order_date=order_date)
    assert error.value.field == "order_date"


@pytest.mark.parametrize("order_date", [START, END])
def test_the_first_and_last_day_of_the_contract_are_inside(u, contract, pump, order_date):
    assert order_for(u.rep, u.customer, contract=contract, lines=[line(pump)], order_date=order_date).pk


def test_a_currency_other_than_the_contracts_is_refused(u, contract, manager):
    dollars = ProductFactory(actor=manager, currency="USD", unit_price=Decimal("10"))
    with pytest.raises(DomainError, match="The contract is in CNY") as error:
        order_for(u.rep, u.customer, contract=contract, lines=[line(dollars)], currency="USD")
    assert error.value.field == "currency"


def test_the_sum_of_live_orders_may_not_exceed_the_contract_amount(u, contract, manager):
    block = ProductFactory(actor=manager, unit_price=Decimal("12500.00"))
    for _ in range(3):
        order_for(u.rep, u.customer, contract=contract, lines=[line(block)])
    assert contract_used(contract) == Decimal("37500.00")

    with pytest.raises(DomainError) as error:
        order_for(u.rep, u.customer, contract=contract, lines=[line(block, 2)])
    assert error.value.message == ("The order total 25,000.00 CNY exceeds the contract's remaining 12,500.00 CNY.")
    assert error.value.field == "contract"
    assert contract_used(contract) == Decimal("37500.00")

    # Exactly the remaining amount fits.
    order_for(u.rep, u.customer, contract=contract, lines=[line(block)])
    assert contract_used(contract) == Decimal("50000.00")
    with pytest.raises(DomainError, match="remaining 0.00 CNY"):
        order_for(u.rep, u.customer, contract=contract, total="0.01")


def test_cancelled_orders_do_not_count_and_cancelling_frees_the_amount(u, contract, manager):
    big = ProductFactory(actor=manager, unit_price=Decimal("30000.00"))
    first = order_for(u.rep, u.customer, contract=contract, lines=[line(big)])
    with pytest.raises(DomainError, match="remaining 20,000.00 CNY"):
        order_for(u.rep, u.customer, contract=contract, lines=[line(big)])

    services.order_cancel(actor=u.rep, order_id=first.pk, reason="Customer changed plans")
    assert contract_used(contract) == Decimal("0.00")

    second = order_for(u.rep, u.customer, contract=contract, lines=[line(big)])
    assert contract_used(contract) == Decimal("30000.00")
    assert set(Order.objects.filter(contract=contract).values_list("pk", "status")) == {
        (first.pk, S.CANCELLED),
        (second.pk, S.DRAFT),
    }


def test_every_live_state_counts_against_the_contract(u, contract, manager):
    block = ProductFactory(actor=manager, unit_price=Decimal("10000.00"))
    orders = [order_for(u.rep, u.customer, contract=contract, lines=[line(block)]) for _ in range(5)]
    services.order_submit(actor=u.rep, order_id=orders[1].pk)
    for order in orders[2:]:
        services.order_submit(actor=u.rep, order_id=order.pk)
        services.order_start_fulfilment(actor=u.manager, order_id=order.pk)
    for order in orders[3:]:
        services.order_deliver(actor=u.manager, order_id=order.pk)
    services.order_close(actor=u.manager, order_id=orders[4].pk)
    assert {reload(order).status for order in orders} == {
        S.DRAFT,
        S.APPROVED,
        S.IN_FULFILMENT,
        S.DELIVERED,
        S.CLOSED,
    }

    with pytest.raises(DomainError, match="remaining 0.00 CNY"):
        order_for(u.rep, u.customer, contract=contract, total="1.00")
    assert contract_used(contract) == Decimal("50000.00")


def test_an_edit_is_checked_against_the_contract_without_counting_itself(u, contract, manager):
    block = ProductFactory(actor=manager, unit_price=Decimal("20000.00"))
    order_for(u.rep, u.customer, contract=contract, lines=[line(block)])
    order = order_for(u.rep, u.customer, contract=contract, lines=[line(block)])

    # 30,000 is this order's 20,000 plus the 10,000 left: fits.
    services.order_update(actor=u.rep, order_id=order.pk, contract_id=contract.pk, lines=[line(block, "1.5")])
    assert contract_used(contract) == Decimal("50000.00")
    with pytest.raises(DomainError, match="remaining 30,000.00 CNY"):
        services.order_update(actor=u.rep, order_id=order.pk, contract_id=contract.pk, lines=[line(block, 2)])
    assert contract_used(contract) == Decimal("50000.00")


def test_submitting_checks_the_contract_again(u, contract, pump):
    order = order_for(u.rep, u.customer, contract=contract, lines=[line(pump)])
    contract_services.contract_terminate(actor=u.manager, contract_id=contract.pk, reason="Customer insolvent")
    with pytest.raises(DomainError, match="is terminated"):
        services.order_submit(actor=u.rep, order_id=order.pk)
    assert reload(order).status == S.DRAFT


# --- visibility ------------------------------------------------------------------------------


def test_reps_see_their_own_orders_and_managers_see_all(u, pump):
    mine = order_for(u.rep, u.customer, lines=[line(pump)])
    theirs = order_for(u.other_rep, u.other_customer, lines=[line(pump)])
    placed_for_my_customer = order_for(u.manager, u.customer, lines=[line(pump)])

    def visible(user):
        return set(Order.objects.visible_to(user).values_list("pk", flat=True))

    assert visible(u.rep) == {mine.pk, placed_for_my_customer.pk}
    assert visible(u.other_rep) == {theirs.pk}
    assert visible(u.manager) == {mine.pk, theirs.pk, placed_for_my_customer.pk}
    assert visible(u.finance) == {mine.pk, theirs.pk, placed_for_my_customer.pk}
    assert not Order.objects.visible_to(u.finance, "change").exists()
    lines_seen = set(OrderLine.objects.visible_to(u.other_rep).values_list("order_id", flat=True))
    assert lines_seen == {theirs.pk}


def test_another_rep_cannot_act_on_an_order_they_cannot_see(u, pump):
    order = order_for(u.rep, u.customer, lines=[line(pump)])
    with pytest.raises(DomainError, match="does not exist"):
        services.order_submit(actor=u.other_rep, order_id=order.pk)
    with pytest.raises(DomainError, match="does not exist"):
        services.order_cancel(actor=u.other_rep, order_id=order.pk, reason="No")
    assert reload(order).status == S.DRAFT


# --- demo data ----------------------------------------------------------------------------------


def test_demo_orders_seed_places_orders_through_the_services(u):
    contracts = [
        active_contract(u.rep, u.customer, "400000", manager=u.manager, signatory=u.signatory),
        active_contract(u.other_rep, u.other_customer, "30000", manager=u.manager, signatory=u.signatory),
    ]

    counts = demo_orders_seed(
        rng=random.Random(7),
        reps=[u.rep, u.other_rep],
        manager=u.manager,
        count=60,
        active_contracts=contracts,
        today=datetime.date(2026, 11, 1),
    )

    assert counts["products_created"] == len(CATALOG) == Product.objects.count()
    assert Product.objects.filter(is_active=False).count() == 1
    assert counts["orders"] + counts["skipped"] == 60
    assert counts["orders"] == Order.objects.count() > 30
    assert sum(counts["by_status"].values()) == counts["orders"]
    assert len(counts["by_status"]) >= 5, counts
    for contract in contracts:
        contract = Contract.objects.get(pk=contract.pk)
        live = Order.objects.filter(contract=contract).exclude(status=S.CANCELLED)
        assert contract.ordered_amount == sum(order.total for order in live) <= contract.amount
        assert set(live.values_list("owner", flat=True)) <= {contract.owner_id}
        for order in Order.objects.filter(contract=contract):
            assert contract.start_date <= order.order_date <= datetime.date(2026, 11, 1)
            assert events_about(order, "order.created").count() == 1
    assert audit_chain_verify() is None

    # The catalog is only added once.
    again = demo_orders_seed(rng=random.Random(8), reps=[u.rep], manager=u.manager, count=5, active_contracts=[])
    assert again == {"products_created": 0, "orders": 0, "by_status": {}, "skipped": 5}
