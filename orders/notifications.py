"""Who is told of an order's approval: the sales managers who may approve an order waiting
for them (never its owner or submitter, only managers who may see it), and the owner of
each decision. Subscribed in `OrdersConfig.ready()` to the events `orders.services` publishes."""

from typing import Any

from django.contrib.auth.models import Permission, User
from django.db.models import Q
from django.utils.translation import gettext_noop

from crm.core.events import event_subscribe
from crm.core.notifications import notification_send
from orders.choices import OrderStatus
from orders.models import Order

WAITS = gettext_noop("Order %(number)s for %(customer)s waits for your approval.")
APPROVED = gettext_noop("%(actor)s approved order %(number)s.")
REJECTED = gettext_noop("%(actor)s sent order %(number)s back: %(comment)s")


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


def subscribe() -> None:
    """Register the rules (from `OrdersConfig.ready()`)."""
    event_subscribe("order.submitted", _on_submitted)
    event_subscribe("order.approved", _on_decided)
    event_subscribe("order.rejected", _on_decided)
