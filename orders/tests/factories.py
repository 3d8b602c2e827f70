"""Catalog and order factories, and helpers that reach each state through the services.

`ProductFactory()` adds a product through `product_create` (acting as a catalog
manager); `active_contract(owner, customer, amount)` takes a contract all the way to
active the way people do (drafted, submitted, approved, signed by the company
signatory and by the customer through the one-time link); `order_for(...)` places an
order through `order_create`. Nothing here sets `status=` directly.
"""

import datetime
from decimal import Decimal

import factory
from django.contrib.contenttypes.models import ContentType

from contracts import selectors as contract_selectors
from contracts import services as contract_services
from contracts import signatures
from contracts.choices import ContractStatus
from contracts.models import ApprovalRule, Contract
from contracts.tests.factories import default_approval_rules
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import PASSWORD, UserFactory
from orders import services
from orders.models import Order, Product

START = datetime.date(2026, 1, 1)
END = datetime.date(2026, 12, 31)
# Orders are dated inside the factory contracts' period unless a test says otherwise, so
# no test depends on the day it runs.
IN_PERIOD = datetime.date(2026, 6, 15)


def catalog_manager():
    return UserFactory(username="catalog_manager", role=Role.SALES_MANAGER)


class ProductFactory(factory.Factory):
    """A product added through `product_create` by a sales manager."""

    class Meta:
        model = Product

    actor = factory.LazyFunction(catalog_manager)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Hydraulic pump HP-{n}")
    description = ""
    unit_price = Decimal("100.00")
    currency = "CNY"
    is_active = True

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("Products are only added through product_create.")

    @classmethod
    def _create(cls, model_class, *, actor, **values):
        return services.product_create(actor=actor, **values)


def line(product, quantity=1, discount_percent=0, **extra):
    """One line as `order_create` takes it."""
    return {"product": product, "quantity": Decimal(quantity), "discount_percent": Decimal(discount_percent), **extra}


def _decider(role):
    usernames = {Role.SALES_MANAGER: "contract_manager", Role.FINANCE_APPROVER: "contract_finance"}
    return UserFactory(username=usernames[Role(role)], role=role)


def active_contract(
    owner,
    customer,
    amount,
    *,
    manager=None,
    finance=None,
    signatory=None,
    currency="CNY",
    start_date=START,
    end_date=END,
    title="Annual supply",
) -> Contract:
    """A contract taken to active through the real services.

    Drafted and submitted by `owner`, approved at every level (by `manager`, and
    `finance` for large amounts; stand-in users when not given), signed by `signatory`
    with their password and by the customer through the link `owner` sends.
    """
    if not ApprovalRule.objects.exists():  # a transactional test starts from a flushed database
        default_approval_rules()
    contract = contract_services.contract_create(
        actor=owner,
        customer_id=customer.pk,
        title=title,
        body="1. Scope\n2. Price\n3. Term\n",
        amount=Decimal(amount),
        currency=currency,
        start_date=start_date,
        end_date=end_date,
        payment_terms_days=30,
    )
    contract = contract_services.contract_submit(actor=owner, contract_id=contract.pk)
    deciders = {Role.SALES_MANAGER.value: manager, Role.FINANCE_APPROVER.value: finance}
    for _level, role in contract_selectors.approval_levels(contract.amount):
        decider = deciders.get(role) or _decider(role)
        contract = contract_services.contract_approve(actor=decider, contract_id=contract.pk, comment="OK")
    assert contract.status == ContractStatus.APPROVED
    signatory = signatory or UserFactory(username="contract_signatory", role=Role.SIGNATORY)
    signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)
    _link, url = signatures.signing_link_send(actor=owner, contract_id=contract.pk)
    token = url.rstrip("/").rsplit("/", 1)[-1]
    signatures.contract_sign_customer(token=token, full_name="Zhao Lei", accepted=True)
    contract = Contract.objects.get(pk=contract.pk)
    assert contract.status == ContractStatus.ACTIVE, contract.status
    return contract


def order_for(actor, customer, *, contract=None, lines=None, total=None, product=None, **values) -> Order:
    """An order placed by `actor` through `order_create`.

    Give `lines` (see `line()`), or `total` for one line of a product priced at that
    total (or of `product`, quantity 1, when that is given).
    """
    if lines is None:
        product = product or ProductFactory(unit_price=Decimal(total if total is not None else "100.00"))
        lines = [line(product)]
    values.setdefault("order_date", IN_PERIOD)
    return services.order_create(
        actor=actor,
        customer_id=customer.pk,
        contract_id=contract.pk if contract is not None else None,
        lines=lines,
        **values,
    )


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def events_about(obj, action=None):
    """The audit events about an object, oldest first."""
    events = AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(type(obj)), target_id=str(obj.pk)
    ).order_by("id")
    return events.filter(action=action) if action else events


def assert_audited(obj, action, *, actor, changes=None, extra=None, parent=None) -> AuditEvent:
    """The newest event about `obj` is `action` by `actor`; `changes` must match exactly,
    `extra` only has to be contained in the event's extra."""
    event = events_about(obj).last()
    assert event is not None, f"no audit event for {obj}"
    assert event.action == action, event.action
    assert event.actor_id == (actor.pk if actor is not None else None)
    assert event.actor_repr == (actor.get_username() if actor is not None else "")
    if parent is not None:
        assert event.parent_type == ContentType.objects.get_for_model(type(parent))
        assert event.parent_id == str(parent.pk)
    if changes is not None:
        assert event.changes == changes, event.changes
    for key, value in (extra or {}).items():
        assert event.extra.get(key) == value, f"extra[{key!r}] = {event.extra.get(key)!r}, not {value!r}"
    return event


# --- quotes ----------------------------------------------------------------------------------


def opportunity_for(owner, customer, *, title="Conveyor upgrade", amount="50000.00"):
    """An open opportunity (prospecting) opened by `owner` through `opportunity_create`."""
    from customers.services import opportunity_create

    return opportunity_create(
        actor=owner,
        customer=customer,
        title=title,
        amount=Decimal(amount),
        currency="CNY",
        expected_close_date=datetime.date.today() + datetime.timedelta(days=60),
    )


def quote_line(product, quantity=1, discount_percent=0, tax_rate="13", **extra):
    """One line as `quote_create` takes it."""
    return {
        "product": product,
        "quantity": Decimal(quantity),
        "discount_percent": Decimal(discount_percent),
        "tax_rate": Decimal(tax_rate),
        **extra,
    }


def quote_for(owner, opportunity, *, lines=None, product=None, **values):
    """A draft quote written by `owner` through `quote_create` (one line of `product`, or of a
    new product at 1,000.00, unless `lines` are given)."""
    if lines is None:
        product = product or ProductFactory(unit_price=Decimal("1000.00"))
        lines = [quote_line(product)]
    return services.quote_create(actor=owner, opportunity_id=opportunity.pk, lines=lines, **values)


def quote_sent(owner, opportunity, **values):
    """A quote sent to the customer; returns it and the link's token."""
    quote = quote_for(owner, opportunity, **values)
    quote, url = services.quote_send(actor=owner, quote_id=quote.pk)
    return quote, url.rstrip("/").rsplit("/", 1)[-1]
