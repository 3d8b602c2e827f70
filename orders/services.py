"""Every write to the catalog and to orders.

An order against a contract is checked under a lock on the contract row: same customer,
contract active, order date inside its period, same currency, and the sum of the
contract's live orders never above its amount — also when many orders arrive at once.
Period, currency and amount are the *signed* terms, read from the contract's verified
signatures: a contract changed behind the application's back takes no orders.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.selectors import contract_list, contract_lock_for_orders, contract_signed_terms
from contracts.services import contract_ordered_amount_set
from crm.core.audit import audit_record, diff, snapshot
from crm.core.events import event_publish
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.numbering import number_allocate
from crm.core.workflow import SYSTEM, Actor, audit_actor
from customers.models import Customer
from customers.selectors import customer_list
from orders.choices import OrderStatus as S
from orders.models import ORDER_FIELDS, PRODUCT_FIELDS, Order, OrderLine, Product, line_total
from orders.selectors import order_approval_reasons
from orders.workflow import LIVE, WORKFLOW

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


def _contract_fit_check(
    *,
    contract: Contract,
    customer: Customer,
    order_date: datetime.date,
    currency: str,
    total: Decimal,
    exclude_order_id: int | None = None,
) -> Decimal:
    """Refuse an order that does not fit its contract's signed terms; the caller holds the
    contract's lock. A contract whose signatures do not verify refuses, naming what changed.

    Returns the contract's ordered amount including this order."""
    if contract.customer_id != customer.pk:
        raise DomainError(_("The contract belongs to another customer."), field="contract")
    if contract.status != ContractStatus.ACTIVE:
        raise DomainError(
            _("Contract %(number)s is %(status)s; orders need an active contract.")
            % {"number": contract.number, "status": contract.get_status_display().lower()},
            field="contract",
        )
    signed = contract_signed_terms(contract, field="contract")
    if not signed.start_date <= order_date <= signed.end_date:
        raise DomainError(
            _("The order date must lie within the contract period, %(start)s to %(end)s.")
            % {"start": signed.start_date, "end": signed.end_date},
            field="order_date",
        )
    if currency != signed.currency:
        raise DomainError(_("The contract is in %(currency)s.") % {"currency": signed.currency}, field="currency")
    others = Order.objects.filter(contract=contract, status__in=LIVE)
    if exclude_order_id is not None:
        others = others.exclude(pk=exclude_order_id)
    used = others.aggregate(total=Sum("total"))["total"] or Decimal(0)
    remaining = signed.amount - used
    if total > remaining:
        raise DomainError(
            _("The order total %(total)s exceeds the contract's remaining %(remaining)s.")
            % {"total": _money(total, currency), "remaining": _money(remaining, signed.currency)},
            field="contract",
        )
    return used + total


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
        _contract_fit_check(contract=contract, customer=customer, order_date=order_date, currency=currency, total=total)
    order = Order(
        customer=customer, contract=contract, order_date=order_date, currency=currency, notes=notes, owner=actor
    )
    order.total = total
    _validated(order)
    order.number = number_allocate("ORD")
    order.save(force_insert=True)
    for line in priced:
        line.order = order
    OrderLine.objects.bulk_create(priced)
    if contract is not None:
        _contract_sum_refresh(contract, actor=actor, order=order)
    audit_record(
        actor=actor,
        action="order.created",
        target=order,
        parent=contract or customer,
        changes=diff({}, snapshot(order, ORDER_FIELDS)),
        extra={"total": str(total), "lines": _lines_snapshot(priced)},
    )
    return order


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
) -> Order:
    """Change a draft order: its header and its lines (existing lines keep their price)."""
    current = Order.objects.visible_to(actor, "change").filter(pk=order_id).values("contract_id").first()
    if current is None:
        raise DomainError(_("This order does not exist or you may not act on it."))
    if contract_id is not None and not contract_list(user=actor).filter(pk=contract_id).exists():
        raise DomainError(_("Choose a contract you may see."), field="contract")
    contracts = _contracts_locked(current["contract_id"], contract_id)
    order = _order_locked(actor, order_id, "change")
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
        _contract_fit_check(
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
        _contract_fit_check(
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
