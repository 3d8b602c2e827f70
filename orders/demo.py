"""Demo catalog, orders and quotes, placed through the real services.

A sales manager adds the catalog (once, when it is empty); the reps who own the active
contracts place orders against them, dated inside each contract's period and never
above what is left of its amount. Most are submitted (straight to approved, or to a
manager when a line carries a large discount or the total is large), and the manager
approves, rejects or moves them through fulfilment; some are cancelled, some stay drafts.
Quotes are written for open opportunities and taken to every state: some wait for a
manager's approval of their discount, some are accepted (drafting their contract), some
declined, expired, revised or cancelled.
"""

import datetime
from collections import Counter
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.models import Contract
from crm.core.exceptions import DomainError
from crm.core.roles import Role
from orders.choices import OrderStatus
from orders.models import Product, line_total
from orders.services import (
    order_approve,
    order_cancel,
    order_close,
    order_create,
    order_deliver,
    order_reject,
    order_start_fulfilment,
    order_submit,
    product_create,
)

# (SKU, name, unit price, active)
CATALOG = [
    ("HP-2200", "Hydraulic gear pump HP-2200", "4850.00", True),
    ("HP-3500", "Hydraulic piston pump HP-3500", "12800.00", True),
    ("VLV-DN50", "Stainless ball valve DN50", "620.00", True),
    ("VLV-DN100", "Butterfly valve DN100, PN16", "1380.00", True),
    ("SEAL-K12", "Mechanical seal kit K12", "260.00", True),
    ("BRG-6308", "Deep groove ball bearing 6308-2RS", "85.00", True),
    ("FLT-H10", "Hydraulic return filter element, 10 µm", "145.00", True),
    ("MTR-7K5", "Three-phase motor 7.5 kW IE3", "5900.00", True),
    ("VFD-11K", "Variable frequency drive 11 kW", "7300.00", True),
    ("PLC-S1200", "PLC controller, 14 DI / 10 DO", "3650.00", True),
    ("SNS-PT100", "Temperature sensor PT100 with transmitter", "410.00", True),
    ("CNC-SPDL", "CNC spindle cartridge, 12,000 rpm", "28500.00", True),
    ("CBL-4X6", "Power cable 4×6 mm², 100 m drum", "2100.00", True),
    ("SVC-INST", "On-site installation, per engineer-day", "1800.00", True),
    ("SVC-MAINT", "Preventive maintenance visit", "2400.00", True),
    ("TRN-DAY", "Operator training, per day", "3200.00", True),
    ("HP-1100", "Hydraulic gear pump HP-1100 (discontinued)", "3100.00", False),
]

DISCOUNTS = [0, 0, 0, 0, 0, 0, 3, 5, 5, 8, 10, 12, 20, 25]
NOTES = [
    "",
    "",
    "",
    "Deliver to the north gate, loading dock 2.",
    "Call the site manager one day before delivery.",
    "Partial delivery accepted.",
    "请在工作日送货。",
]
REJECTIONS = ["Discount too high for this customer.", "Quantities look wrong; please check with the customer."]
CANCEL_REASONS = ["Customer postponed the project.", "Duplicate of another order.", "客户取消采购计划。"]


@transaction.atomic
def demo_catalog_ensure(*, manager) -> int:
    """Add the demo catalog when there are no products at all; returns how many were added."""
    if Product.objects.exists():
        return 0
    for sku, name, price, active in CATALOG:
        product_create(
            actor=manager,
            sku=sku,
            name=name,
            unit_price=Decimal(price),
            currency=settings.DEFAULT_CURRENCY,
            is_active=active,
        )
    return len(CATALOG)


def _placer(contract, reps_by_pk, manager):
    """Who places orders on a contract: the rep owning its customer (only they see it), else the manager."""
    return reps_by_pk.get(contract.customer.owner_id, manager)


def _lines(rng, products, remaining):
    """1-4 random lines whose total fits `remaining`, or None when even one unit does not."""
    lines, total = [], Decimal(0)
    for product in rng.sample(products, k=min(len(products), rng.choice([1, 1, 2, 2, 3, 4]))):
        discount = Decimal(rng.choice(DISCOUNTS))
        unit_total = line_total(Decimal(1), product.unit_price, discount)
        wanted = rng.choice([1, 1, 2, 3, 5, 10, 20]) if product.unit_price < 1000 else rng.choice([1, 1, 2, 3])
        affordable = int((remaining - total) / unit_total) if unit_total else wanted
        quantity = min(wanted, affordable)
        if quantity < 1:
            continue
        lines.append({"product": product, "quantity": Decimal(quantity), "discount_percent": discount})
        total += line_total(Decimal(quantity), product.unit_price, discount)
    return lines or None


def _order_date(rng, contract, today):
    """A day inside the contract's period, not after today (the caller checks it started)."""
    last = min(contract.end_date, today)
    return contract.start_date + datetime.timedelta(days=rng.randint(0, (last - contract.start_date).days))


@transaction.atomic
def demo_orders_seed(*, rng, reps, manager, count=150, active_contracts=(), today=None) -> dict:
    """Place about `count` orders against `active_contracts` and move them along.

    Returns counts: "products_created", "orders", "by_status" and "skipped" (placements
    given up because no contract had room or a period that has started).
    """
    today = today or timezone.localdate()
    products_created = demo_catalog_ensure(manager=manager)
    products = list(Product.objects.filter(is_active=True, currency=settings.DEFAULT_CURRENCY).order_by("sku"))
    reps_by_pk = {rep.pk: rep for rep in reps}
    usable = [
        contract
        for contract in active_contracts
        if contract.currency == settings.DEFAULT_CURRENCY and contract.start_date <= today
    ]
    remaining = {contract.pk: contract.amount - contract.ordered_amount for contract in usable}
    statuses, skipped = Counter(), 0

    for _index in range(count):
        open_contracts = [contract for contract in usable if remaining[contract.pk] >= Decimal("100")]
        if not open_contracts or not products:
            skipped += count - _index
            break
        contract = rng.choice(open_contracts)
        placer = _placer(contract, reps_by_pk, manager)
        lines = _lines(rng, products, remaining[contract.pk])
        if lines is None:
            skipped += 1
            continue
        try:
            order = order_create(
                actor=placer,
                customer_id=contract.customer_id,
                contract_id=contract.pk,
                order_date=_order_date(rng, contract, today),
                lines=lines,
                notes=rng.choice(NOTES),
            )
        except DomainError:
            skipped += 1
            continue
        remaining[contract.pk] -= order.total
        order = _move_along(rng, order, placer=placer, manager=manager)
        if order.status == OrderStatus.CANCELLED:
            remaining[contract.pk] += order.total
        statuses[order.status] += 1

    return {
        "products_created": products_created,
        "orders": statuses.total(),
        "by_status": {str(status): number for status, number in sorted(statuses.items())},
        "skipped": skipped,
    }


def _move_along(rng, order, *, placer, manager):
    """Take a fresh order to a random, plausible state, one service call per step."""
    fate = rng.random()
    if fate < 0.1:
        return order
    if fate < 0.15:
        return order_cancel(actor=placer, order_id=order.pk, reason=rng.choice(CANCEL_REASONS))
    order = order_submit(actor=placer, order_id=order.pk)
    if order.status == OrderStatus.PENDING_APPROVAL:
        decision = rng.random()
        if decision < 0.2 or manager.pk == placer.pk:
            return order  # still waiting for a manager
        if decision < 0.35:
            return order_reject(actor=manager, order_id=order.pk, comment=rng.choice(REJECTIONS))
        order = order_approve(actor=manager, order_id=order.pk, comment="OK")
    progress = rng.random()
    if progress < 0.08:
        return order_cancel(actor=placer, order_id=order.pk, reason=rng.choice(CANCEL_REASONS))
    if progress < 0.25:
        return order
    order = order_start_fulfilment(actor=manager, order_id=order.pk)
    if progress < 0.45:
        return order
    order = order_deliver(actor=manager, order_id=order.pk)
    if progress < 0.7:
        return order
    return order_close(actor=manager, order_id=order.pk)


def demo_step(*, rng, users, contracts=300) -> dict:
    """seed_demo's orders part: a catalog, the customers' past orders (orders/demo_history.py,
    bulk-loaded) and orders against the demo's active contracts (through the services)."""
    from orders.demo_history import demo_order_history_seed

    reps = [user for user in users.values() if user.groups.filter(name=Role.SALES_REP).exists()]
    manager = next(user for user in users.values() if user.groups.filter(name=Role.SALES_MANAGER).exists())
    admin = next(user for user in users.values() if user.is_superuser)
    active = list(Contract.objects.filter(status=ContractStatus.ACTIVE).order_by("id"))
    count = max(contracts // 2, 1)
    products_created = demo_catalog_ensure(manager=manager)
    made = demo_order_history_seed(seed=rng.randrange(2**31), manager=manager, admin=admin, today=timezone.localdate())
    made.update(demo_orders_seed(rng=rng, reps=reps, manager=manager, count=count, active_contracts=active))
    made["products_created"] = products_created
    made.update(demo_quotes_seed(rng=rng, reps=reps, manager=manager, count=max(contracts // 6, 11)))
    return made


# --- quotes ----------------------------------------------------------------------------------

# What becomes of each demo quote, in proportion: left as a draft, waiting for a manager,
# approved, sent, accepted (a contract draft follows), declined, expired, revised, cancelled.
QUOTE_FATES = ["draft", "pending", "approved", "sent", "sent", "accepted", "accepted", "declined", "expired"]
QUOTE_FATES += ["revised", "cancelled"]
QUOTE_DISCOUNTS = [0, 0, 0, 5, 8, 10, 15, 20]


def _quote_opportunities(*, rng, reps, count):
    """Open opportunities to quote for: the pipeline's, else a few opened here."""
    from customers.choices import OPEN_STAGES
    from customers.models import Customer, Opportunity
    from customers.services import opportunity_create

    found = list(Opportunity.objects.filter(stage__in=OPEN_STAGES).select_related("customer", "owner")[:count])
    if len(found) >= count:
        return found
    for customer in Customer.objects.filter(owner__in=reps).order_by("id")[: count - len(found)]:
        found.append(
            opportunity_create(
                actor=customer.owner,
                customer=customer,
                title=rng.choice(["Line upgrade", "Spare parts 2027", "Pump retrofit", "Plant expansion"]),
                amount=Decimal(rng.randrange(20, 400) * 1000),
                currency=settings.DEFAULT_CURRENCY,
                expected_close_date=timezone.localdate() + datetime.timedelta(days=rng.randrange(15, 120)),
            )
        )
    return found


def demo_quotes_seed(*, rng, reps, manager, count=40) -> dict:
    """Quotes written by the opportunities' owners, in every state, through the services."""
    from orders.services import (
        quote_accept,
        quote_approve,
        quote_cancel,
        quote_create,
        quote_decline,
        quote_expire,
        quote_revise,
        quote_send,
        quote_submit,
    )

    products = list(Product.objects.filter(is_active=True, currency=settings.DEFAULT_CURRENCY))
    fates: Counter = Counter()
    if not products:
        return {"quotes": 0}
    from crm.core.workflow import SYSTEM

    for index, opportunity in enumerate(_quote_opportunities(rng=rng, reps=reps, count=count)):
        owner = opportunity.customer.owner
        if not owner.has_perm("orders.add_quote"):
            continue
        fate = QUOTE_FATES[index % len(QUOTE_FATES)]
        lines = [
            {
                "product": product,
                "quantity": Decimal(rng.randrange(1, 12)),
                "discount_percent": Decimal(rng.choice(QUOTE_DISCOUNTS)),
            }
            for product in rng.sample(products, rng.randrange(1, 4))
        ]
        past = timezone.localdate() - datetime.timedelta(days=rng.randrange(1, 30))
        try:
            with transaction.atomic():
                quote = quote_create(
                    actor=owner,
                    opportunity_id=opportunity.pk,
                    lines=lines,
                    language=rng.choice(["en", "en", "zh-hans"]),
                    valid_until=past if fate == "expired" else None,
                )
                if fate == "expired":
                    quote_expire(actor=SYSTEM, quote_id=quote.pk)
                elif fate != "draft":
                    if quote.approval_reasons:
                        quote = quote_submit(actor=owner, quote_id=quote.pk)
                        if fate == "pending":
                            fates[fate] += 1
                            continue
                        quote = quote_approve(actor=manager, quote_id=quote.pk, comment="Strategic account")
                    if fate in ("sent", "accepted", "declined", "revised"):
                        quote, _url = quote_send(actor=owner, quote_id=quote.pk, send_email=False)
                        link = quote.links.get()
                        if fate == "accepted":
                            name = opportunity.customer.contacts.values_list("name", flat=True).first() or "Li Wei"
                            quote_accept(link_id=link.pk, full_name=name, accepted=True)
                        elif fate == "declined":
                            quote_decline(link_id=link.pk, reason=rng.choice(["Price too high", "Budget cut"]))
                        elif fate == "revised":
                            quote_revise(actor=owner, quote_id=quote.pk)
                    elif fate == "cancelled":
                        quote_cancel(actor=owner, quote_id=quote.pk, reason="The customer merged the projects")
        except DomainError:
            fates["refused"] += 1
            continue
        fates[fate] += 1
    return {"quotes": sum(count for fate, count in fates.items() if fate != "refused"), **fates}
