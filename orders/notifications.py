"""Who is told of an order's or a quote's approval: the sales managers who may approve one
waiting for them (never its owner or submitter, only managers who may see it), and the owner
of each decision; a quote's owner also hears when the customer accepts or declines it.
Subscribed in `OrdersConfig.ready()` to the events `orders.services` publishes."""

from typing import Any

from django.contrib.auth.models import Permission, User
from django.db.models import Q
from django.utils.translation import gettext_noop

from crm.core.events import event_subscribe
from crm.core.notifications import notification_send
from orders.choices import OrderStatus, QuoteStatus
from orders.models import Order, Quote

WAITS = gettext_noop("Order %(number)s for %(customer)s waits for your approval.")
APPROVED = gettext_noop("%(actor)s approved order %(number)s.")
REJECTED = gettext_noop("%(actor)s sent order %(number)s back: %(comment)s")
QUOTE_WAITS = gettext_noop("The discount of quote %(number)s for %(customer)s waits for your approval.")
QUOTE_APPROVED = gettext_noop("%(actor)s approved the discount of quote %(number)s.")
QUOTE_REJECTED = gettext_noop("%(actor)s sent quote %(number)s back: %(comment)s")
QUOTE_ACCEPTED = gettext_noop("%(customer)s accepted quote %(number)s; contract %(contract)s is drafted.")
QUOTE_DECLINED = gettext_noop("%(customer)s declined quote %(number)s: %(reason)s")


def _order(payload: dict[str, Any]) -> Order | None:
    return Order.objects.select_related("customer", "owner", "submitted_by").filter(pk=payload["order_id"]).first()


def _name(user_id: int | None) -> str:
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return (user.get_full_name() or user.get_username()) if user else ""


def order_approvers(order: Order) -> list[User]:
    """Who may approve the order: holding `orders.approve_order` through a role (or
    directly), seeing the order, neither its owner nor its submitter."""
    permission = Permission.objects.filter(content_type__app_label="orders", codename="approve_order")
    candidates = (
        User.objects.filter(is_active=True)
        .filter(Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .exclude(pk__in=[pk for pk in (order.owner_id, order.submitted_by_id) if pk])
        .distinct()
    )
    return [user for user in candidates if Order.objects.visible_to(user).filter(pk=order.pk).exists()]


def _on_submitted(name: str, payload: dict[str, Any]) -> None:
    order = _order(payload)
    if order is None or payload.get("automatic") or order.status != OrderStatus.PENDING_APPROVAL:
        return
    notification_send(
        recipients=order_approvers(order),
        sentence=WAITS,
        params={"number": order.number, "customer": order.customer.name},
        target_url=order.get_absolute_url(),
        exclude=[payload.get("actor_id")],
    )


def _on_decided(name: str, payload: dict[str, Any]) -> None:
    order = _order(payload)
    if order is None:
        return
    actor_id = payload.get("actor_id")
    notification_send(
        recipients=[order.owner],
        sentence=APPROVED if name == "order.approved" else REJECTED,
        params={"number": order.number, "actor": _name(actor_id), "comment": payload.get("comment", "")},
        target_url=order.get_absolute_url(),
        exclude=[actor_id],
    )


def _quote(payload: dict[str, Any]) -> Quote | None:
    return Quote.objects.select_related("customer", "owner", "contract").filter(pk=payload["quote_id"]).first()


def quote_approvers(quote: Quote) -> list[User]:
    """Who may approve the quote's discount: holding `orders.approve_quote`, seeing the
    quote, neither its owner nor its submitter."""
    permission = Permission.objects.filter(content_type__app_label="orders", codename="approve_quote")
    candidates = (
        User.objects.filter(is_active=True)
        .filter(Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .exclude(pk__in=[pk for pk in (quote.owner_id, quote.submitted_by_id) if pk])
        .distinct()
    )
    return [user for user in candidates if Quote.objects.visible_to(user).filter(pk=quote.pk).exists()]


def _on_quote_submitted(name: str, payload: dict[str, Any]) -> None:
    quote = _quote(payload)
    if quote is None or quote.status != QuoteStatus.PENDING_APPROVAL:
        return
    notification_send(
        recipients=quote_approvers(quote),
        sentence=QUOTE_WAITS,
        params={"number": str(quote), "customer": quote.customer.name},
        target_url=quote.get_absolute_url(),
        exclude=[payload.get("actor_id")],
    )


def _on_quote_decided(name: str, payload: dict[str, Any]) -> None:
    quote = _quote(payload)
    if quote is None:
        return
    actor_id = payload.get("actor_id")
    notification_send(
        recipients=[quote.owner],
        sentence=QUOTE_APPROVED if name == "quote.approved" else QUOTE_REJECTED,
        params={"number": str(quote), "actor": _name(actor_id), "comment": payload.get("comment", "")},
        target_url=quote.get_absolute_url(),
        exclude=[actor_id],
    )


def _on_quote_answered(name: str, payload: dict[str, Any]) -> None:
    """The customer accepted or declined through the link: the owner hears of it."""
    quote = _quote(payload)
    if quote is None:
        return
    notification_send(
        recipients=[quote.owner],
        sentence=QUOTE_ACCEPTED if name == "quote.accepted" else QUOTE_DECLINED,
        params={
            "number": str(quote),
            "customer": quote.customer.name,
            "contract": quote.contract.number if quote.contract else "",
            "reason": payload.get("reason", ""),
        },
        target_url=quote.get_absolute_url(),
    )


def subscribe() -> None:
    """Register the rules (from `OrdersConfig.ready()`)."""
    event_subscribe("order.submitted", _on_submitted)
    event_subscribe("order.approved", _on_decided)
    event_subscribe("order.rejected", _on_decided)
    event_subscribe("quote.submitted", _on_quote_submitted)
    event_subscribe("quote.approved", _on_quote_decided)
    event_subscribe("quote.rejected", _on_quote_decided)
    event_subscribe("quote.accepted", _on_quote_answered)
    event_subscribe("quote.declined", _on_quote_answered)
