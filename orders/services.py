"""Every write to the catalog, orders and quotes.

An order against a contract is checked under a lock on the contract row: same customer,
contract active, order date inside its period, same currency, and the sum of the
contract's live orders never above its amount — also when many orders arrive at once.
Period, currency and amount are the *signed* terms, read from the contract's verified
signatures: a contract changed behind the application's back takes no orders.
"""

import datetime
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contracts.models import Contract, ContractTemplate
from contracts.selectors import contract_list, contract_lock_for_orders
from contracts.services import contract_create, contract_ordered_amount_set
from crm.core.audit import audit_record, diff, snapshot
from crm.core.context import current_context
from crm.core.events import event_publish
from crm.core.exceptions import DomainError, DuplicateRecord, TransitionNotAllowed
from crm.core.mail import mail_send_on_commit
from crm.core.numbering import number_allocate
from crm.core.services import reference_row_save
from crm.core.tokens import token_hash
from crm.core.versions import version_check
from crm.core.workflow import SYSTEM, Actor, audit_actor
from customers.choices import OpportunityStage
from customers.models import Contact, Opportunity
from customers.selectors import customer_list
from customers.services import opportunity_stage_move
from orders.choices import OrderStatus as S
from orders.choices import QuoteLanguage
from orders.choices import QuoteStatus as QS
from orders.models import (
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    QUOTE_FIELDS,
    Order,
    OrderLine,
    Product,
    Quote,
    QuoteDiscountLimit,
    QuoteLine,
    QuoteLink,
    QuoteTermsTemplate,
    line_total,
    quote_line_amounts,
)
from orders.pdf import quote_pdf
from orders.selectors import (
    order_approval_reasons,
    order_contract_fit,
    quote_approval_reasons,
    quote_link_by_id,
    quote_link_usable_check,
    quote_terms_default,
)
from orders.workflow import LIVE, QUOTE_WORKFLOW, WORKFLOW

#: The lines a form or a caller hands in: `{"product", "quantity", "discount_percent", "id"?}`.
LineValues = Mapping[str, Any]

# --- catalog -------------------------------------------------------------------------------


@transaction.atomic
def product_create(*, actor: User, **values: Any) -> Product:
    if not actor.has_perm("orders.add_product"):
        raise DomainError(_("You may not add products."))
    product = Product(**values)
    product.full_clean()
    product.save(force_insert=True)
    audit_record(
        actor=actor, action="product.created", target=product, changes=diff({}, snapshot(product, PRODUCT_FIELDS))
    )
    return product


@transaction.atomic
def product_update(*, actor: User, product_id: int, **values: Any) -> Product:
    if not actor.has_perm("orders.change_product"):
        raise DomainError(_("You may not change products."))
    product = Product.objects.select_for_update().get(pk=product_id)
    before = snapshot(product, PRODUCT_FIELDS)
    for name, value in values.items():
        setattr(product, name, value)
    product.full_clean()
    changes = diff(before, snapshot(product, PRODUCT_FIELDS))
    if changes:
        product.save()
        audit_record(actor=actor, action="product.updated", target=product, changes=changes)
    return product


# --- lines and totals ----------------------------------------------------------------------


def _money(amount: Decimal, currency: str) -> str:
    return f"{number_format(amount, decimal_pos=2, force_grouping=True)} {currency}"


def _priced_lines(
    lines: Sequence[LineValues], *, currency: str, existing: Mapping[int, OrderLine] | None = None
) -> list[OrderLine]:
    """[(OrderLine unsaved, total)] from `[{"product", "quantity", "discount_percent", "id"?}]`.

    A line that already exists keeps the price it was added at; a new line takes the
    product's current price. Inactive products cannot be ordered.
    """
    existing = existing or {}
    # The catalog's current row, not whatever copy the caller holds.
    current = Product.objects.in_bulk({values["product"].pk for values in lines})
    priced = []
    for values in lines:
        product = current.get(values["product"].pk)
        if product is None:
            raise DomainError(_("%(product)s is no longer sold.") % {"product": values["product"]}, field="lines")
        line_id = values.get("id")
        kept = existing.get(line_id) if line_id is not None else None
        if kept is not None and kept.product_id == product.pk:
            unit_price = kept.unit_price
        else:
            if not product.is_active:
                raise DomainError(_("%(product)s is no longer sold.") % {"product": product}, field="lines")
            unit_price = product.unit_price
        if product.currency != currency:
            raise DomainError(
                _("%(product)s is priced in %(product_currency)s, the order in %(currency)s.")
                % {"product": product, "product_currency": product.currency, "currency": currency},
                field="lines",
            )
        quantity = Decimal(values["quantity"])
        discount = Decimal(values.get("discount_percent") or 0)
        if quantity <= 0:
            raise DomainError(_("Quantities must be above zero."), field="lines")
        if not Decimal(0) <= discount <= Decimal(100):
            raise DomainError(_("Discounts are between 0 and 100 percent."), field="lines")
        line = OrderLine(
            product=product,
            quantity=quantity,
            unit_price=unit_price,
            discount_percent=discount,
            line_total=line_total(quantity, unit_price, discount),
        )
        priced.append(line)
    if not priced:
        raise DomainError(_("Add at least one line."), field="lines")
    return priced


def _lines_snapshot(lines: Iterable[OrderLine]) -> list[list[str]]:
    return [
        [line.product.sku, str(line.quantity), str(line.unit_price), str(line.discount_percent), str(line.line_total)]
        for line in lines
    ]


# --- the contract fit ------------------------------------------------------------------------


def _contract_sum_refresh(contract: Contract, *, actor: User, order: Order) -> None:
    """Record the contract's live-order sum after `order` changed; the caller holds its lock."""
    used = Order.objects.filter(contract=contract, status__in=LIVE).aggregate(total=Sum("total"))["total"]
    contract_ordered_amount_set(actor=actor, contract=contract, amount=used or Decimal(0), order_number=order.number)


def _visible_contract(actor: User, contract_id: int | None) -> Contract | None:
    if contract_id is None:
        return None
    if not contract_list(user=actor).filter(pk=contract_id).exists():
        raise DomainError(_("Choose a contract you may see."), field="contract")
    return contract_lock_for_orders(contract_id=contract_id)


# --- orders ----------------------------------------------------------------------------------


@transaction.atomic
def order_create(
    *,
    actor: User,
    customer_id: int,
    lines: Sequence[LineValues],
    contract_id: int | None = None,
    order_date: datetime.date | None = None,
    currency: str | None = None,
    notes: str = "",
) -> Order:
    if not actor.has_perm("orders.add_order"):
        raise DomainError(_("You may not place orders."))
    customer = customer_list(user=actor).filter(pk=customer_id).first()
    if customer is None:
        raise DomainError(_("Choose a customer you may see."), field="customer")
    contract = _visible_contract(actor, contract_id)
    order_date = order_date or timezone.localdate()
    currency = (currency or (contract.currency if contract else settings.DEFAULT_CURRENCY)).upper()
    priced = _priced_lines(lines, currency=currency)
    total = sum((line.line_total for line in priced), Decimal(0))
    if contract is not None:
        order_contract_fit(contract=contract, customer=customer, order_date=order_date, currency=currency, total=total)
    order = Order(
        customer=customer, contract=contract, order_date=order_date, currency=currency, notes=notes, owner=actor
    )
    order.total = total
    _validated(order)
    order.number = number_allocate("ORD")
    _order_insert(order, priced, actor=actor)
    audit_record(
        actor=actor,
        action="order.created",
        target=order,
        parent=contract or customer,
        changes=diff({}, snapshot(order, ORDER_FIELDS)),
        extra={"total": str(total), "lines": _lines_snapshot(priced)},
    )
    return order


def _past_lines(lines: Sequence[LineValues], *, currency: str) -> list[OrderLine]:
    """The lines of a past order at the prices it was sold at (the file's, not today's
    catalog price), each product in the order's currency."""
    priced = []
    for values in lines:
        product = values["product"]
        if product.currency != currency:
            raise DomainError(
                _("%(product)s is priced in %(product_currency)s, the order in %(currency)s.")
                % {"product": product, "product_currency": product.currency, "currency": currency},
                field="lines",
            )
        quantity, unit_price = Decimal(values["quantity"]), Decimal(values["unit_price"])
        discount = Decimal(values.get("discount_percent") or 0)
        if quantity <= 0:
            raise DomainError(_("Quantities must be above zero."), field="lines")
        if unit_price < 0:
            raise DomainError(_("Unit prices cannot be negative."), field="lines")
        if not Decimal(0) <= discount <= Decimal(100):
            raise DomainError(_("Discounts are between 0 and 100 percent."), field="lines")
        priced.append(
            OrderLine(
                product=product,
                quantity=quantity,
                unit_price=unit_price,
                discount_percent=discount,
                line_total=line_total(quantity, unit_price, discount),
            )
        )
    if not priced:
        raise DomainError(_("Add at least one line."), field="lines")
    return priced


@transaction.atomic
def order_import_past(
    *,
    actor: User,
    customer_id: int,
    external_ref: str,
    order_date: datetime.date,
    lines: Sequence[LineValues],
    contract_id: int | None = None,
    currency: str | None = None,
    notes: str = "",
    delivered_on: datetime.date | None = None,
    owner: User | None = None,
    keep_history: bool = False,
    source_file: str = "",
) -> Order:
    """Record an order that was placed and delivered before the CRM (orders.order_imports).

    It arrives delivered, so only who may move orders through fulfilment imports it; it is
    numbered in its own year's ORD sequence (gap-free: a rolled-back import gives its numbers
    back); against a contract it must fit it as any order must (same customer, contract
    active, date inside the signed period, same currency, the live orders' sum within the
    amount, under the contract's lock). No step events are published: what happened then
    was notified then. The `order.created` event names the file, the external number and
    the approval rules' reasons the order would have needed."""
    if not (actor.has_perm("orders.add_order") and actor.has_perm("orders.fulfil_order")):
        raise DomainError(_("Only who may place and deliver orders imports past orders."))
    if keep_history and not actor.has_perm("imports.import_history"):
        raise DomainError(_("Only an administrator may keep original owners and dates."))
    customer = customer_list(user=actor).filter(pk=customer_id).first()
    if customer is None:
        raise DomainError(_("Choose a customer you may see."), field="customer")
    external_ref = (external_ref or "").strip()
    if not external_ref:
        raise DomainError(_("Give the order's number in the system it comes from."), field="external_ref")
    existing = Order.objects.filter(external_ref=external_ref).only("number", "external_ref").first()
    if existing is not None:
        raise _imported_already(existing)
    today = timezone.localdate()
    if order_date > today or (delivered_on is not None and not order_date <= delivered_on <= today):
        raise DomainError(
            _("A past order is dated before today and delivered after it was placed."), field="order_date"
        )
    contract = _visible_contract(actor, contract_id)
    currency = (currency or (contract.currency if contract else settings.DEFAULT_CURRENCY)).upper()
    priced = _past_lines(lines, currency=currency)
    total = sum((line.line_total for line in priced), Decimal(0))
    if contract is not None:
        order_contract_fit(contract=contract, customer=customer, order_date=order_date, currency=currency, total=total)
    kept: dict[str, Any] = {}
    if keep_history and owner is not None and owner != actor:
        if not owner.is_active:
            raise DomainError(_("%(name)s is not an active user.") % {"name": owner.get_username()}, field="owner")
        kept["owner"] = owner.get_username()
    else:
        owner = actor
    delivered = timezone.make_aware(datetime.datetime.combine(delivered_on or order_date, datetime.time(12)))
    placed = timezone.make_aware(datetime.datetime.combine(order_date, datetime.time(9)))
    if keep_history:
        kept["created_at"] = placed.isoformat()
    order = Order(
        customer=customer,
        contract=contract,
        order_date=order_date,
        currency=currency,
        notes=notes,
        owner=owner,
        external_ref=external_ref,
        status=S.DELIVERED,
        delivered_at=delivered,
        created_at=placed if keep_history else timezone.now(),
    )
    order.total = total
    _validated(order)
    order.number = number_allocate("ORD", year=order_date.year)
    try:
        with transaction.atomic():
            _order_insert(order, priced, actor=actor)
    except IntegrityError as error:
        # Another import of the same number committed after the check above (the insert
        # waited for it): the unique constraint decides, and names the order it kept.
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") != "order_unique_external_ref":
            raise
        raise _imported_already(Order.objects.only("number", "external_ref").get(external_ref=external_ref)) from None
    audit_record(
        actor=actor,
        action="order.created",
        target=order,
        parent=contract or customer,
        changes=diff({}, snapshot(order, [*ORDER_FIELDS, "status", "external_ref"])),
        extra={
            "total": str(total),
            "lines": _lines_snapshot(priced),
            "import": source_file,
            "approval_reasons": [str(reason) for reason in order_approval_reasons(order)],
            **({"kept_original": kept} if kept else {}),
        },
    )
    return order


def _imported_already(existing: Order) -> DuplicateRecord:
    return DuplicateRecord(
        _("Order %(ref)s was imported already as %(number)s.")
        % {"ref": existing.external_ref, "number": existing.number},
        field="external_ref",
        existing=existing,
    )


def _order_insert(order: Order, priced: list[OrderLine], *, actor: User) -> None:
    """Save a new, validated and numbered order with its priced lines and refresh its
    contract's ordered sum (shared by a placed and an imported order)."""
    order.save(force_insert=True)
    for line in priced:
        line.order = order
    OrderLine.objects.bulk_create(priced)
    if order.contract is not None:
        _contract_sum_refresh(order.contract, actor=actor, order=order)


def _validated(order: Order) -> None:
    """Model validation as a refusal: an order date out of range next to the date, anything
    else (e.g. a total too large to store) with the lines."""
    try:
        order.full_clean(exclude=["number"])
    except ValidationError as error:
        field = "order_date" if "order_date" in getattr(error, "error_dict", {}) else "lines"
        raise DomainError(" ".join(error.messages), field=field) from None


def _order_locked(actor: Actor, order_id: int, action: str = "view") -> Order:
    """The order under a row lock, if the actor may see it (`SYSTEM` sees every one)."""
    queryset = Order.objects.all() if actor is SYSTEM else Order.objects.visible_to(actor, action)
    order = queryset.select_for_update(of=("self",)).select_related("customer", "contract").filter(pk=order_id).first()
    if order is None:
        raise DomainError(_("This order does not exist or you may not act on it."))
    return order


def _contracts_locked(*contract_ids: int | None) -> dict[int, Contract]:
    """Lock contracts in id order (every service does), so two services never deadlock."""
    return {
        contract_id: contract_lock_for_orders(contract_id=contract_id)
        for contract_id in sorted({contract_id for contract_id in contract_ids if contract_id})
    }


@transaction.atomic
def order_update(
    *,
    actor: User,
    order_id: int,
    lines: Sequence[LineValues],
    contract_id: int | None = None,
    order_date: datetime.date | None = None,
    currency: str | None = None,
    notes: str = "",
    expected_version: Collection[str] | None = None,
) -> Order:
    """Change a draft order: its header and its lines (existing lines keep their price)."""
    current = Order.objects.visible_to(actor, "change").filter(pk=order_id).values("contract_id").first()
    if current is None:
        raise DomainError(_("This order does not exist or you may not act on it."))
    if contract_id is not None and not contract_list(user=actor).filter(pk=contract_id).exists():
        raise DomainError(_("Choose a contract you may see."), field="contract")
    contracts = _contracts_locked(current["contract_id"], contract_id)
    order = _order_locked(actor, order_id, "change")
    version_check(order, expected_version)
    if order.status != S.DRAFT:
        raise TransitionNotAllowed(_("Only a draft order can be edited."))
    if order.contract_id != current["contract_id"]:
        raise DomainError(_("The order changed meanwhile; please try again."))
    before = snapshot(order, ORDER_FIELDS)
    before_lines = list(order.lines.select_related("product"))
    contract = contracts.get(contract_id) if contract_id is not None else None
    order.contract = contract
    order.order_date = order_date or order.order_date
    order.currency = (currency or order.currency).upper()
    order.notes = notes
    priced = _priced_lines(lines, currency=order.currency, existing={line.pk: line for line in before_lines})
    order.total = sum((line.line_total for line in priced), Decimal(0))
    if contract is not None:
        order_contract_fit(
            contract=contract,
            customer=order.customer,
            order_date=order.order_date,
            currency=order.currency,
            total=order.total,
            exclude_order_id=order.pk,
        )
    _validated(order)
    order.updated_at = timezone.now()
    order.save()
    order.lines.all().delete()
    for line in priced:
        line.order = order
    OrderLine.objects.bulk_create(priced)
    for locked in contracts.values():
        _contract_sum_refresh(locked, actor=actor, order=order)
    changes = diff(before, snapshot(order, ORDER_FIELDS))
    old_lines, new_lines = _lines_snapshot(before_lines), _lines_snapshot(priced)
    if old_lines != new_lines:
        changes["lines"] = [old_lines, new_lines]
    audit_record(
        actor=actor,
        action="order.updated",
        target=order,
        parent=order.contract or order.customer,
        changes=changes,
        extra={"total": str(order.total)},
    )
    return order


def _set_status(order: Order, target: str, *, actor: Actor, action: str, extra: dict[str, Any] | None = None) -> Order:
    before = order.status
    order.status = target
    order.updated_at = timezone.now()
    order.save()
    audit_record(
        actor=audit_actor(actor),
        action=action,
        target=order,
        parent=order.contract or order.customer,
        changes={"status": [before, target]},
        extra=extra,
    )
    return order


def _order_locked_with_contract(actor: Actor, order_id: int, action: str = "view") -> Order:
    """The order and its contract under lock, the contract first (as every order service
    takes them), refusing if the order moved to another contract meanwhile."""
    contract_id = Order.objects.filter(pk=order_id).values_list("contract_id", flat=True).first()
    _contracts_locked(contract_id)
    order = _order_locked(actor, order_id, action)
    if order.contract_id != contract_id:
        raise DomainError(_("The order changed meanwhile; please try again."))
    return order


def _check_still_fits(order: Order) -> None:
    """An order moving forward must still fit its contract (it may have ended meanwhile)."""
    if order.contract is not None:
        order_contract_fit(
            contract=order.contract,
            customer=order.customer,
            order_date=order.order_date,
            currency=order.currency,
            total=order.total,
            exclude_order_id=order.pk,
        )


@transaction.atomic
def order_submit(*, actor: User, order_id: int) -> Order:
    """Submit a draft: straight to approved, unless a rule asks for a manager's approval."""
    order = _order_locked_with_contract(actor, order_id, "change")
    reasons = order_approval_reasons(order)
    target = S.PENDING_APPROVAL if reasons else S.APPROVED
    WORKFLOW.check(order, "submit", actor=actor, target=target)
    _check_still_fits(order)
    order.submitted_by = actor
    order.approval_reasons = reasons
    if not reasons:
        order.approved_by = None
    event_publish("order.submitted", order_id=order.pk, actor_id=actor.pk, automatic=not reasons)
    return _set_status(
        order,
        target,
        actor=actor,
        action="order.submitted" if reasons else "order.approved",
        extra={"approval_reasons": reasons, "automatic": not reasons},
    )


def _check_pending(order: Order) -> None:
    """Approving is a decision on a submitted order; a draft goes through `order_submit`
    (the table's draft -> approved is the automatic approval, not a manager's shortcut)."""
    if order.status != S.PENDING_APPROVAL:
        raise TransitionNotAllowed(
            _("This order is %(status)s; there is nothing to decide.") % {"status": order.get_status_display().lower()}
        )


def _check_approver(order: Order, actor: User) -> None:
    if actor.pk in (order.owner_id, order.submitted_by_id):
        raise TransitionNotAllowed(_("Nobody approves their own order."))


@transaction.atomic
def order_approve(*, actor: User, order_id: int, comment: str = "") -> Order:
    order = _order_locked_with_contract(actor, order_id)
    _check_pending(order)
    WORKFLOW.check(order, "approve", actor=actor)
    _check_approver(order, actor)
    _check_still_fits(order)
    order.approved_by = actor
    event_publish("order.approved", order_id=order.pk, actor_id=actor.pk, comment=comment)
    return _set_status(order, S.APPROVED, actor=actor, action="order.approved", extra={"comment": comment})


@transaction.atomic
def order_reject(*, actor: User, order_id: int, comment: str) -> Order:
    """A manager sends the order back to draft, saying why."""
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_("Say why the order is sent back."), field="comment")
    order = _order_locked(actor, order_id)
    WORKFLOW.check(order, "reject", actor=actor)
    _check_approver(order, actor)
    event_publish("order.rejected", order_id=order.pk, actor_id=actor.pk, comment=comment)
    return _set_status(order, S.DRAFT, actor=actor, action="order.rejected", extra={"comment": comment})


@transaction.atomic
def order_start_fulfilment(*, actor: User, order_id: int) -> Order:
    order = _order_locked_with_contract(actor, order_id)
    WORKFLOW.check(order, "start_fulfilment", actor=actor)
    _check_still_fits(order)
    return _set_status(order, S.IN_FULFILMENT, actor=actor, action="order.fulfilment_started")


@transaction.atomic
def order_deliver(*, actor: User, order_id: int) -> Order:
    order = _order_locked(actor, order_id)
    WORKFLOW.check(order, "deliver", actor=actor)
    order.delivered_at = timezone.now()
    event_publish("order.delivered", order_id=order.pk, actor_id=actor.pk)
    return _set_status(order, S.DELIVERED, actor=actor, action="order.delivered")


@transaction.atomic
def order_close(*, actor: Actor, order_id: int) -> Order:
    """Close a delivered order; `actor=SYSTEM` is the system (close_delivered_orders)."""
    order = _order_locked(actor, order_id)
    WORKFLOW.check(order, "close", actor=actor)
    return _set_status(order, S.CLOSED, actor=actor, action="order.closed")


@transaction.atomic
def order_cancel(*, actor: User, order_id: int, reason: str) -> Order:
    """Cancel a draft, pending or approved order; its amount returns to the contract."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the order is cancelled."), field="reason")
    contract_id = Order.objects.filter(pk=order_id).values_list("contract_id", flat=True).first()
    contracts = _contracts_locked(contract_id)
    order = _order_locked(actor, order_id, "change")
    if order.contract_id != contract_id:  # moved to another contract before the lock was taken
        raise DomainError(_("The order changed meanwhile; please try again."))
    WORKFLOW.check(order, "cancel", actor=actor)
    order.cancel_reason = reason
    _set_status(order, S.CANCELLED, actor=actor, action="order.cancelled", extra={"reason": reason})
    for contract in contracts.values():
        _contract_sum_refresh(contract, actor=actor, order=order)
    return order


# --- quotes ----------------------------------------------------------------------------------

#: Quote lines as a form hands them in: `{"product", "quantity", "discount_percent", "tax_rate",
#: "description"?, "id"?}`; a missing tax rate is `settings.DEFAULT_TAX_RATE`.
QuoteLineValues = Mapping[str, Any]

# The opportunity stages an accepted quote moves on to negotiation (later ones stay).
_BEFORE_NEGOTIATION = {OpportunityStage.PROSPECTING, OpportunityStage.QUALIFICATION, OpportunityStage.PROPOSAL}


def _priced_quote_lines(
    lines: Sequence[QuoteLineValues], *, currency: str, existing: Mapping[int, QuoteLine] | None = None
) -> tuple[list[QuoteLine], dict[str, Decimal]]:
    """The unsaved lines with their amounts, and the document's totals. An existing line
    keeps the price it was added at; a new one takes the product's current price."""
    existing = existing or {}
    current = Product.objects.in_bulk({values["product"].pk for values in lines})
    priced: list[QuoteLine] = []
    totals = {"listed": Decimal(0), "net": Decimal(0), "tax": Decimal(0), "gross": Decimal(0), "discount": Decimal(0)}
    for values in lines:
        product = current.get(values["product"].pk)
        if product is None:
            raise DomainError(_("%(product)s is no longer sold.") % {"product": values["product"]}, field="lines")
        kept = existing.get(values["id"]) if values.get("id") is not None else None
        if kept is not None and kept.product_id == product.pk:
            unit_price = kept.unit_price
        else:
            if not product.is_active:
                raise DomainError(_("%(product)s is no longer sold.") % {"product": product}, field="lines")
            unit_price = product.unit_price
        if product.currency != currency:
            raise DomainError(
                _("%(product)s is priced in %(product_currency)s, the quote in %(currency)s.")
                % {"product": product, "product_currency": product.currency, "currency": currency},
                field="lines",
            )
        quantity = Decimal(values["quantity"])
        discount = Decimal(values.get("discount_percent") or 0)
        tax_rate = values.get("tax_rate")
        tax_rate = Decimal(settings.DEFAULT_TAX_RATE) if tax_rate is None or tax_rate == "" else Decimal(tax_rate)
        if quantity <= 0:
            raise DomainError(_("Quantities must be above zero."), field="lines")
        if not Decimal(0) <= discount <= Decimal(100):
            raise DomainError(_("Discounts are between 0 and 100 percent."), field="lines")
        if not Decimal(0) <= tax_rate <= Decimal(100):
            raise DomainError(_("Tax rates are between 0 and 100 percent."), field="lines")
        amounts = quote_line_amounts(quantity, unit_price, discount, tax_rate)
        for name in totals:
            totals[name] += amounts[name]
        priced.append(
            QuoteLine(
                product=product,
                description=(values.get("description") or "").strip()[:300],
                quantity=quantity,
                unit_price=unit_price,
                discount_percent=discount,
                tax_rate=tax_rate,
                net=amounts["net"],
                tax=amounts["tax"],
                gross=amounts["gross"],
            )
        )
    if not priced:
        raise DomainError(_("Add at least one line."), field="lines")
    return priced, totals


def _quote_lines_snapshot(lines: Iterable[QuoteLine]) -> list[list[str]]:
    return [
        [line.product.sku, str(line.quantity), str(line.unit_price), str(line.discount_percent), str(line.tax_rate)]
        for line in lines
    ]


def _quote_lines_store(quote: Quote, priced: list[QuoteLine], totals: Mapping[str, Decimal]) -> None:
    """Replace the quote's lines and totals and note whether its discounts need approval."""
    quote.net_total, quote.tax_total = totals["net"], totals["tax"]
    quote.gross_total, quote.discount_total = totals["gross"], totals["discount"]
    quote.approval_reasons = quote_approval_reasons(lines=priced, listed=totals["listed"], discount=totals["discount"])
    try:
        quote.full_clean(exclude=["number", "opportunity", "customer", "owner"])
    except ValidationError as error:
        field = "valid_until" if "valid_until" in getattr(error, "error_dict", {}) else "lines"
        raise DomainError(" ".join(error.messages), field=field) from None
    quote.save()
    quote.lines.all().delete()
    for line in priced:
        line.quote = quote
    QuoteLine.objects.bulk_create(priced)


def _quote_locked(actor: Actor, quote_id: int, action: str = "view") -> Quote:
    """The quote under a row lock, if the actor may see it (`SYSTEM` sees every one)."""
    queryset = Quote.objects.all() if actor is SYSTEM else Quote.objects.visible_to(actor, action)
    quote = (
        queryset.select_for_update(of=("self",))
        .select_related("customer", "opportunity", "owner")
        .filter(pk=quote_id)
        .first()
    )
    if quote is None:
        raise DomainError(_("This quote does not exist or you may not act on it."))
    return quote


def _quote_status_set(
    quote: Quote,
    target: str,
    *,
    actor: Actor | None,
    action: str,
    extra: dict[str, Any] | None = None,
    label: str = "",
) -> Quote:
    before = quote.status
    quote.status = target
    quote.updated_at = timezone.now()
    quote.save()
    audit_record(
        actor=audit_actor(actor) if actor is not None else None,
        actor_label=label,
        action=action,
        target=quote,
        parent=quote.opportunity,
        changes={"status": [before, target]},
        extra=extra,
    )
    return quote


def _quote_header(
    *, currency: str, language: str, valid_until: datetime.date | None, terms: str | None
) -> dict[str, Any]:
    if language not in QuoteLanguage.values:
        raise DomainError(_("Choose English or Chinese."), field="language")
    return {
        "currency": currency.upper(),
        "language": language,
        "valid_until": valid_until or timezone.localdate() + datetime.timedelta(days=settings.QUOTE_VALID_DAYS),
        "terms": quote_terms_default(language) if terms is None else terms,
    }


@transaction.atomic
def quote_create(
    *,
    actor: User,
    opportunity_id: int,
    lines: Sequence[QuoteLineValues],
    title: str = "",
    currency: str | None = None,
    language: str = QuoteLanguage.ENGLISH,
    valid_until: datetime.date | None = None,
    terms: str | None = None,
) -> Quote:
    """Draft a quote for an opportunity the actor may change; the terms default to the
    language's default template."""
    if not actor.has_perm("orders.add_quote"):
        raise DomainError(_("You may not write quotes."))
    opportunity = (
        Opportunity.objects.visible_to(actor, "change").select_related("customer").filter(pk=opportunity_id).first()
    )
    if opportunity is None:
        raise DomainError(_("Choose an opportunity you may change."), field="opportunity")
    if opportunity.stage in (OpportunityStage.WON, OpportunityStage.LOST):
        raise DomainError(_("The opportunity is closed; reopen it before quoting."), field="opportunity")
    header = _quote_header(
        currency=currency or opportunity.currency, language=language, valid_until=valid_until, terms=terms
    )
    quote = Quote(
        opportunity=opportunity,
        customer=opportunity.customer,
        title=(title or opportunity.title).strip(),
        owner=actor,
        **header,
    )
    priced, totals = _priced_quote_lines(lines, currency=quote.currency)
    quote.number = number_allocate("QT")
    _quote_lines_store(quote, priced, totals)
    audit_record(
        actor=actor,
        action="quote.created",
        target=quote,
        parent=opportunity,
        changes=diff({}, snapshot(quote, QUOTE_FIELDS)),
        extra={"gross": str(quote.gross_total), "lines": _quote_lines_snapshot(priced)},
    )
    return quote


@transaction.atomic
def quote_update(
    *,
    actor: User,
    quote_id: int,
    lines: Sequence[QuoteLineValues],
    title: str,
    currency: str,
    language: str,
    valid_until: datetime.date | None,
    terms: str,
    expected_version: Collection[str] | None = None,
) -> Quote:
    """Change a draft quote: its header and lines (existing lines keep their price)."""
    quote = _quote_locked(actor, quote_id, "change")
    version_check(quote, expected_version)
    if quote.status != QS.DRAFT:
        raise TransitionNotAllowed(_("Only a draft quote can be edited."))
    before = snapshot(quote, QUOTE_FIELDS)
    before_lines = list(quote.lines.select_related("product"))
    quote.title = title.strip()
    for name, value in _quote_header(
        currency=currency, language=language, valid_until=valid_until or quote.valid_until, terms=terms
    ).items():
        setattr(quote, name, value)
    priced, totals = _priced_quote_lines(
        lines, currency=quote.currency, existing={line.pk: line for line in before_lines}
    )
    quote.updated_at = timezone.now()
    _quote_lines_store(quote, priced, totals)
    changes = diff(before, snapshot(quote, QUOTE_FIELDS))
    old_lines, new_lines = _quote_lines_snapshot(before_lines), _quote_lines_snapshot(priced)
    if old_lines != new_lines:
        changes["lines"] = [old_lines, new_lines]
    audit_record(
        actor=actor,
        action="quote.updated",
        target=quote,
        parent=quote.opportunity,
        changes=changes,
        extra={"gross": str(quote.gross_total)},
    )
    return quote


@transaction.atomic
def quote_submit(*, actor: User, quote_id: int) -> Quote:
    """Ask a sales manager to approve the discounts of a draft that passes the limits."""
    quote = _quote_locked(actor, quote_id, "change")
    QUOTE_WORKFLOW.check(quote, "submit", actor=actor)
    if not quote.approval_reasons:
        raise TransitionNotAllowed(_("The discounts are within the limits; send the quote instead."))
    quote.submitted_by = actor
    quote.approved_by = None
    event_publish("quote.submitted", quote_id=quote.pk, actor_id=actor.pk)
    return _quote_status_set(
        quote,
        QS.PENDING_APPROVAL,
        actor=actor,
        action="quote.submitted",
        extra={"approval_reasons": quote.approval_reasons},
    )


def _quote_check_approver(quote: Quote, actor: User) -> None:
    if actor.pk in (quote.owner_id, quote.submitted_by_id):
        raise TransitionNotAllowed(_("Nobody approves the discount of their own quote."))


@transaction.atomic
def quote_approve(*, actor: User, quote_id: int, comment: str = "") -> Quote:
    """A sales manager other than the writer approves the discounts (the lock makes two
    managers deciding at once take turns: the second finds it decided)."""
    quote = _quote_locked(actor, quote_id)
    QUOTE_WORKFLOW.check(quote, "approve", actor=actor)
    _quote_check_approver(quote, actor)
    quote.approved_by = actor
    event_publish("quote.approved", quote_id=quote.pk, actor_id=actor.pk, comment=comment)
    return _quote_status_set(quote, QS.APPROVED, actor=actor, action="quote.approved", extra={"comment": comment})


@transaction.atomic
def quote_reject(*, actor: User, quote_id: int, comment: str) -> Quote:
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_("Say why the quote is sent back."), field="comment")
    quote = _quote_locked(actor, quote_id)
    QUOTE_WORKFLOW.check(quote, "reject", actor=actor)
    _quote_check_approver(quote, actor)
    event_publish("quote.rejected", quote_id=quote.pk, actor_id=actor.pk, comment=comment)
    return _quote_status_set(quote, QS.DRAFT, actor=actor, action="quote.rejected", extra={"comment": comment})


def _quote_recipient(quote: Quote, contact_id: int | None) -> str:
    """The address the quote goes to: the chosen contact of its customer, else the customer's."""
    if contact_id is not None:
        contact = Contact.objects.filter(pk=contact_id, customer_id=quote.customer_id).first()
        if contact is None:
            raise DomainError(_("Choose a contact of this customer."), field="contact")
        email = contact.email
    else:
        email = quote.customer.email
    if not email:
        raise DomainError(_("The contact has no e-mail address."), field="contact")
    return email


def _links_revoke(quote: Quote, now: datetime.datetime) -> int:
    return QuoteLink.objects.filter(quote=quote, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)


@transaction.atomic
def quote_send(
    *, actor: User, quote_id: int, contact_id: int | None = None, send_email: bool = True
) -> tuple[Quote, str]:
    """E-mail the quote's PDF with a one-time link to the customer (through the queue, after
    commit); sending a revision supersedes the revision it replaces. Returns the quote and
    the link's address. `send_email=False` makes the link without mailing it (the demo
    data, whose addresses are invented)."""
    quote = _quote_locked(actor, quote_id, "change")
    QUOTE_WORKFLOW.check(quote, "send", actor=actor)
    if quote.status == QS.DRAFT and quote.approval_reasons:
        raise TransitionNotAllowed(
            _("A sales manager must approve the discount first: %(reasons)s.")
            % {"reasons": "; ".join(quote.approval_reasons)}
        )
    if quote.valid_until < timezone.localdate():
        raise DomainError(_("The quote is no longer valid; change its date first."), field="contact")
    email = _quote_recipient(quote, contact_id)
    now = timezone.now()
    _links_revoke(quote, now)
    token = secrets.token_urlsafe(32)
    expires = min(
        now + datetime.timedelta(days=settings.QUOTE_LINK_DAYS),
        timezone.make_aware(datetime.datetime.combine(quote.valid_until, datetime.time.max)),
    )
    link = QuoteLink.objects.create(
        quote=quote, token_sha256=token_hash(token), email=email, created_by=actor, expires_at=expires
    )
    if quote.supersedes_id is not None:
        previous = _quote_locked(SYSTEM, quote.supersedes_id)
        if previous.status == QS.SENT:
            QUOTE_WORKFLOW.check(previous, "supersede", actor=SYSTEM)
            _links_revoke(previous, now)
            _quote_status_set(previous, QS.SUPERSEDED, actor=actor, action="quote.superseded", extra={"by": str(quote)})
    quote.sent_to, quote.sent_at = email, now
    url = settings.SITE_URL.rstrip("/") + reverse("orders:quote_public_start", args=[token])
    _quote_status_set(
        quote, QS.SENT, actor=actor, action="quote.sent", extra={"email": email, "expires_at": link.expires_at}
    )
    with translation.override(quote.language):
        subject = _("Quote %(quote)s from %(company)s") % {"quote": quote, "company": settings.COMPANY_NAME}
        body = _(
            "%(company)s sends you quote %(quote)s (%(title)s), valid until %(valid_until)s; it is attached "
            "as a PDF.\n\nOpen this link to view it and accept or decline it: %(url)s\n\n"
            "The link works once and expires on %(expires)s."
        ) % {
            "company": settings.COMPANY_NAME,
            "quote": quote,
            "title": quote.title,
            "valid_until": quote.valid_until.isoformat(),
            "url": url,
            "expires": timezone.localtime(expires).strftime("%Y-%m-%d %H:%M"),
        }
        pdf = quote_pdf(quote) if send_email else b""
    if send_email:
        mail_send_on_commit(
            subject=subject, body=body, to=[email], attachments=[(quote.pdf_filename, pdf, "application/pdf")]
        )
    return quote, url


@transaction.atomic
def quote_link_revoke(*, actor: User, quote_id: int, link_id: int) -> QuoteLink:
    quote = _quote_locked(actor, quote_id, "change")
    link = QuoteLink.objects.select_for_update().filter(pk=link_id, quote=quote).first()
    if link is None:
        raise DomainError(_("This link does not exist or you may not revoke it."))
    if not link.is_usable():
        raise DomainError(_("This link is already used, revoked or expired."))
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor, action="quote.link_revoked", target=quote, parent=quote.opportunity, extra={"email": link.email}
    )
    return link


def _quote_by_link(link_id: int) -> tuple[Quote, QuoteLink]:
    """The link's quote and the link, both locked (quote first, as quote_send takes them)."""
    link = quote_link_by_id(link_id)
    quote = _quote_locked(SYSTEM, link.quote_id)
    link = QuoteLink.objects.select_for_update().get(pk=link.pk)
    quote_link_usable_check(link)
    return quote, link


def _customer_decided(quote: Quote, link: QuoteLink) -> str:
    context = current_context()
    now = timezone.now()
    link.used_at = now
    link.save(update_fields=["used_at"])
    quote.decided_at = now
    quote.decided_ip = context.ip
    quote.decided_user_agent = (context.user_agent or "")[:500]
    return link.email


@transaction.atomic
def quote_accept(*, link_id: int, full_name: str, accepted: bool) -> Quote:
    """The customer accepts through the link: the contract draft is made from the quote
    (amount = gross, its lines as an annex) and the opportunity moves to negotiation."""
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise DomainError(_("Type your full name."), field="full_name")
    if not accepted:
        raise DomainError(_("Tick the box to accept the quote."), field="accepted")
    quote, link = _quote_by_link(link_id)
    QUOTE_WORKFLOW.check(quote, "accept", actor=SYSTEM)
    email = _customer_decided(quote, link)
    quote.accepted_name = full_name
    quote.contract = _contract_from_quote(quote)
    label = f"{full_name} <{email}>"
    _quote_status_set(
        quote,
        QS.ACCEPTED,
        actor=None,
        label=label,
        action="quote.accepted",
        extra={"name": full_name, "contract": quote.contract.number, "ip": quote.decided_ip},
    )
    if quote.opportunity.stage in _BEFORE_NEGOTIATION:
        opportunity_stage_move(actor=SYSTEM, opportunity_id=quote.opportunity_id, stage=OpportunityStage.NEGOTIATION)
    event_publish("quote.accepted", quote_id=quote.pk, contract_id=quote.contract.pk, accepted_by=full_name)
    return quote


@transaction.atomic
def quote_decline(*, link_id: int, reason: str) -> Quote:
    """The customer declines through the link, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Tell us why you decline."), field="reason")
    quote, link = _quote_by_link(link_id)
    QUOTE_WORKFLOW.check(quote, "decline", actor=SYSTEM)
    email = _customer_decided(quote, link)
    quote.decline_reason = reason
    _quote_status_set(
        quote,
        QS.DECLINED,
        actor=None,
        label=email,
        action="quote.declined",
        extra={"reason": reason, "ip": quote.decided_ip},
    )
    event_publish("quote.declined", quote_id=quote.pk, reason=reason)
    return quote


def _quote_annex(quote: Quote) -> str:
    """The quote's lines and totals as plain text, appended to the contract's body."""
    rows = [
        _("Annex: quote %(quote)s, accepted by %(name)s on %(date)s")
        % {"quote": quote, "name": quote.accepted_name, "date": timezone.localdate().isoformat()},
        "",
    ]
    for number, line in enumerate(quote.lines.select_related("product"), start=1):
        rows.append(
            _("%(n)d. %(sku)s %(name)s: %(quantity)s × %(price)s, discount %(discount)s%%, tax %(tax)s%% = %(gross)s")
            % {
                "n": number,
                "sku": line.product.sku,
                "name": line.product.name,
                "quantity": f"{line.quantity.normalize():f}",
                "price": _money(line.unit_price, quote.currency),
                "discount": f"{line.discount_percent.normalize():f}",
                "tax": f"{line.tax_rate.normalize():f}",
                "gross": _money(line.gross, quote.currency),
            }
        )
    rows += [
        "",
        _("Net %(net)s, tax %(tax)s, total %(gross)s.")
        % {
            "net": _money(quote.net_total, quote.currency),
            "tax": _money(quote.tax_total, quote.currency),
            "gross": _money(quote.gross_total, quote.currency),
        },
    ]
    return "\n".join(str(row) for row in rows)


def _contract_from_quote(quote: Quote) -> Contract:
    """The contract draft, in the owner's name, from the first active contract template."""
    template = ContractTemplate.objects.filter(is_active=True).order_by("name", "id").first()
    start = timezone.localdate()
    with translation.override(quote.language):
        annex = _quote_annex(quote)
    return contract_create(
        actor=quote.owner,
        customer_id=quote.customer_id,
        template_id=template.pk if template else None,
        body="" if template else annex,
        annex=annex if template else "",
        title=quote.title,
        amount=quote.gross_total,
        currency=quote.currency,
        start_date=start,
        end_date=start + datetime.timedelta(days=365),
    )


@transaction.atomic
def quote_expire(*, actor: Actor, quote_id: int) -> Quote:
    """A quote past its valid-until date expires (`expire_quotes`, as the system)."""
    quote = _quote_locked(actor, quote_id)
    QUOTE_WORKFLOW.check(quote, "expire", actor=actor)
    if quote.valid_until >= timezone.localdate():
        raise TransitionNotAllowed(_("The quote is valid until %(date)s.") % {"date": quote.valid_until})
    _links_revoke(quote, timezone.now())
    return _quote_status_set(quote, QS.EXPIRED, actor=actor, action="quote.expired")


@transaction.atomic
def quote_revise(*, actor: User, quote_id: int) -> Quote:
    """Draft the next revision of a sent, declined or expired quote, with its lines at the
    prices they were quoted at; the revision supersedes this one when it is sent."""
    quote = _quote_locked(actor, quote_id, "change")
    QUOTE_WORKFLOW.check(quote, "revise", actor=actor)
    if not actor.has_perm("orders.add_quote"):
        raise TransitionNotAllowed(_("Your role may not take this step."))
    open_revision = Quote.objects.filter(supersedes=quote).exclude(status=QS.CANCELLED).first()
    if open_revision is not None:
        raise TransitionNotAllowed(_("%(quote)s is already being revised.") % {"quote": open_revision})
    latest = Quote.objects.filter(number=quote.number).order_by("-revision").values_list("revision", flat=True)[0]
    revision = Quote(
        number=quote.number,
        revision=latest + 1,
        supersedes=quote,
        opportunity=quote.opportunity,
        customer=quote.customer,
        title=quote.title,
        currency=quote.currency,
        language=quote.language,
        valid_until=max(quote.valid_until, timezone.localdate() + datetime.timedelta(days=settings.QUOTE_VALID_DAYS)),
        terms=quote.terms,
        owner=actor,
    )
    old_lines = list(quote.lines.select_related("product"))
    copied = [
        QuoteLine(
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
            net=line.net,
            tax=line.tax,
            gross=line.gross,
        )
        for line in old_lines
    ]
    totals = {
        "listed": quote.net_total + quote.discount_total,
        "net": quote.net_total,
        "tax": quote.tax_total,
        "gross": quote.gross_total,
        "discount": quote.discount_total,
    }
    _quote_lines_store(revision, copied, totals)
    audit_record(
        actor=actor,
        action="quote.revised",
        target=revision,
        parent=quote.opportunity,
        extra={"supersedes": str(quote), "gross": str(revision.gross_total)},
    )
    return revision


@transaction.atomic
def quote_cancel(*, actor: User, quote_id: int, reason: str) -> Quote:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the quote is cancelled."), field="reason")
    quote = _quote_locked(actor, quote_id, "change")
    QUOTE_WORKFLOW.check(quote, "cancel", actor=actor)
    quote.cancel_reason = reason
    _links_revoke(quote, timezone.now())
    return _quote_status_set(quote, QS.CANCELLED, actor=actor, action="quote.cancelled", extra={"reason": reason})


@transaction.atomic
def quote_opportunity_win(*, contract_id: int) -> Quote | None:
    """The contract drafted from a quote became active: its opportunity is won (the system)."""
    quote = Quote.objects.select_related("opportunity").filter(contract_id=contract_id).first()
    if quote is None or quote.opportunity.stage in (OpportunityStage.WON, OpportunityStage.LOST):
        return quote
    opportunity_stage_move(actor=SYSTEM, opportunity_id=quote.opportunity_id, stage=OpportunityStage.WON)
    return quote


@transaction.atomic
def quote_discount_limit_set(*, actor: User, line_percent: Decimal, total_percent: Decimal) -> QuoteDiscountLimit:
    """Change the discount limits above which a quote needs a sales manager's approval."""
    QuoteDiscountLimit.objects.get_or_create(pk=1)
    limit = QuoteDiscountLimit.objects.select_for_update().get(pk=1)
    limit.line_percent, limit.total_percent = Decimal(line_percent), Decimal(total_percent)
    return reference_row_save(
        actor=actor,
        instance=limit,
        fields=["line_percent", "total_percent"],
        refusal=_("You may not change the discount limits."),
    )


@transaction.atomic
def quote_terms_template_save(*, actor: User, template: QuoteTermsTemplate) -> QuoteTermsTemplate:
    """Add or change a terms template (one default per language)."""
    if template.is_default:
        QuoteTermsTemplate.objects.filter(language=template.language, is_default=True).exclude(pk=template.pk).update(
            is_default=False
        )
    return reference_row_save(
        actor=actor,
        instance=template,
        fields=["name", "language", "body", "is_default", "is_active"],
        refusal=_("You may not change quote terms."),
    )
