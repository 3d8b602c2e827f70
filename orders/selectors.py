"""Reads of the catalog, orders and quotes that start from what the user may see."""

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.selectors import contract_integrity, contract_list, contract_signed_terms
from crm.core.audit import audit_history
from crm.core.exceptions import DomainError
from crm.core.gram_search import search_filter
from crm.core.tokens import token_hash
from crm.core.types import Viewer
from customers.models import Customer, Opportunity
from customers.selectors import customer_list
from orders.choices import OrderStatus, QuoteStatus
from orders.models import Order, Product, Quote, QuoteDiscountLimit, QuoteLine, QuoteLink, QuoteTermsTemplate
from orders.workflow import LIVE

# --- catalog -------------------------------------------------------------------------------


def product_list(*, user: Viewer) -> QuerySet[Product]:
    return Product.objects.visible_to(user)


def product_search(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Products whose SKU or name contains the text."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(sku__icontains=text) | Q(name__icontains=text))


def product_choices(*, keep_ids: Iterable[int] = ()) -> QuerySet[Product]:
    """What a line may order: the active products, plus those already on the order's lines
    (an existing line keeps its product and price even after the product is withdrawn)."""
    condition = Q(is_active=True)
    if keep_ids:
        condition |= Q(pk__in=list(keep_ids))
    return Product.objects.filter(condition).order_by("sku", "id")


# --- orders --------------------------------------------------------------------------------


def order_list(*, user: Viewer) -> QuerySet[Order]:
    return Order.objects.visible_to(user).select_related("customer", "contract", "owner")


def order_get(*, user: Viewer, pk: int, action: str = "view") -> Order:
    queryset = Order.objects.visible_to(user, action).select_related("customer", "contract", "owner")
    return get_object_or_404(queryset, pk=pk)


def order_search(queryset: QuerySet[Order], text: str) -> QuerySet[Order]:
    """Orders whose number (`000123`, `ORD-2026-0001`) or customer name contains the text,
    through the order's own search grams."""
    return search_filter(queryset, text, fields=["number", "customer_name"], complete=True)


def order_list_scope(*, user: Viewer, data: Mapping[str, Any]) -> dict[str, Any]:
    """The customer or contract a filtered list is narrowed to, named for the heading."""
    scope: dict[str, Any] = {}
    if data.get("customer"):
        scope["scope_customer"] = customer_list(user=user).filter(pk=data["customer"]).first()
    if data.get("contract"):
        scope["scope_contract"] = contract_list(user=user).filter(pk=data["contract"]).first()
    return scope


def _money(amount: Decimal, currency: str) -> str:
    return f"{number_format(amount, decimal_pos=2, force_grouping=True)} {currency}"


def order_approval_reasons(order: Order) -> list[str]:
    """Why an order needs a sales manager's approval; empty when it does not."""
    reasons: list[str] = []
    if order.contract_id is None:
        reasons.append(_("it is not placed against a contract"))
    if order.total > Decimal(settings.ORDER_APPROVAL_TOTAL_ABOVE):
        reasons.append(
            _("its total is above %(limit)s")
            % {"limit": _money(Decimal(settings.ORDER_APPROVAL_TOTAL_ABOVE), order.currency)}
        )
    limit = Decimal(settings.ORDER_APPROVAL_DISCOUNT_ABOVE)
    if order.lines.filter(discount_percent__gt=limit).exists():
        reasons.append(_("a line is discounted by more than %(limit)s%%") % {"limit": f"{limit.normalize():f}"})
    return reasons


def order_detail_context(*, order: Order) -> dict[str, Any]:
    context = {
        "lines": order.lines.select_related("product"),
        "history": audit_history(order).select_related("actor")[:100],
    }
    if order.status == OrderStatus.DRAFT:
        context["approval_preview"] = order_approval_reasons(order)
    if order.contract is not None:
        context.update(contract_integrity(contract=order.contract))
    return context


def order_contract_choices(*, user: Viewer, customer: Customer | int) -> QuerySet[Contract]:
    """The contracts an order of this customer may be placed against: active and visible."""
    return (
        contract_list(user=user)
        .filter(customer=customer, status=ContractStatus.ACTIVE)
        .select_related(None)
        .order_by("-start_date", "-id")
    )


def contract_orders(*, user: Viewer, contract: Contract, limit: int = 10) -> QuerySet[Order]:
    """The latest orders placed against a contract, among those the user may see."""
    return order_list(user=user).filter(contract=contract).order_by("-order_date", "-id")[:limit]


def contract_order_amounts(*, contract: Contract) -> dict[str, Decimal]:
    """What the contract's orders take from its amount. Draft orders count: a draft holds
    its amount (reserved) until it is submitted or cancelled, so two people drafting at once
    cannot both plan on the same remainder. `ordered` is the orders past draft, `reserved`
    the drafts, and `remaining` what is left after both (all orders, not only those the
    user may see: the figures are the contract's)."""
    drafts = Order.objects.filter(contract=contract, status=OrderStatus.DRAFT).aggregate(total=Sum("total"))
    reserved = drafts["total"] or Decimal(0)
    return {
        "ordered": contract.ordered_amount - reserved,
        "reserved": reserved,
        "remaining": contract.remaining_amount,
    }


def order_can_edit(*, order: Order, user: Viewer) -> bool:
    return order.status == OrderStatus.DRAFT and Order.objects.visible_to(user, "change").filter(pk=order.pk).exists()


# --- quotes --------------------------------------------------------------------------------


def quote_list(*, user: Viewer) -> QuerySet[Quote]:
    return Quote.objects.visible_to(user).select_related("customer", "opportunity", "owner")


def quote_get(*, user: Viewer, pk: int, action: str = "view") -> Quote:
    queryset = Quote.objects.visible_to(user, action).select_related("customer", "opportunity", "owner", "contract")
    return get_object_or_404(queryset, pk=pk)


def quote_search(queryset: QuerySet[Quote], text: str) -> QuerySet[Quote]:
    """Quotes whose number or title contains the text, through the quote's search grams."""
    text = text.strip()
    if text.upper().startswith("QT-"):
        return queryset.filter(number__startswith=text.upper())
    return search_filter(queryset, text, fields=["number", "title"], complete=True)


def quote_discount_limit() -> QuoteDiscountLimit:
    """The admin's limits, or the defaults while nobody has saved them."""
    return QuoteDiscountLimit.objects.filter(pk=1).first() or QuoteDiscountLimit(pk=1)


def quote_discount_percent(*, listed: Decimal, discount: Decimal) -> Decimal:
    """The total discount as a share of the list price, in percent (two decimals)."""
    if not listed:
        return Decimal(0)
    return (discount * 100 / listed).quantize(Decimal("0.01"))


def quote_approval_reasons(*, lines: Iterable[QuoteLine], listed: Decimal, discount: Decimal) -> list[str]:
    """Why a quote's discounts need a sales manager; empty when they are within the limits."""
    limit = quote_discount_limit()
    reasons: list[str] = []
    if any(line.discount_percent > limit.line_percent for line in lines):
        reasons.append(
            _("a line is discounted by more than %(limit)s%%") % {"limit": f"{limit.line_percent.normalize():f}"}
        )
    if quote_discount_percent(listed=listed, discount=discount) > limit.total_percent:
        reasons.append(_("the total discount is above %(limit)s%%") % {"limit": f"{limit.total_percent.normalize():f}"})
    return reasons


def quote_terms_default(language: str) -> str:
    """The default terms of a language (the active default template's body, else empty)."""
    template = QuoteTermsTemplate.objects.filter(language=language, is_active=True).order_by("-is_default", "name")
    first = template.first()
    return first.body if first else ""


def quote_lines(quote: Quote) -> QuerySet[QuoteLine]:
    return quote.lines.select_related("product")


def quote_detail_context(*, quote: Quote) -> dict[str, Any]:
    return {
        "lines": quote_lines(quote),
        "history": audit_history(quote).select_related("actor")[:100],
        "revisions": Quote.objects.filter(number=quote.number).exclude(pk=quote.pk).order_by("revision"),
        "links": quote.links.select_related("created_by")[:10],
        "discount_percent": quote_discount_percent(
            listed=quote.net_total + quote.discount_total, discount=quote.discount_total
        ),
    }


def quote_can_edit(*, quote: Quote, user: Viewer) -> bool:
    return quote.status == QuoteStatus.DRAFT and Quote.objects.visible_to(user, "change").filter(pk=quote.pk).exists()


def quote_link_get(token: str | None) -> QuoteLink:
    """The usable link for a token; DomainError says plainly why a link does not work."""
    link = QuoteLink.objects.select_related("quote").filter(token_sha256=token_hash(token or "")).first()
    if link is None:
        raise DomainError(_("This quote link is not valid."))
    quote_link_usable_check(link)
    return link


def quote_link_by_id(link_id: int) -> QuoteLink:
    """The usable link with this id (kept in the customer's session once its token was
    exchanged); DomainError says plainly why it does not work."""
    link = QuoteLink.objects.select_related("quote", "quote__customer").filter(pk=link_id).first()
    if link is None:
        raise DomainError(_("This quote link is not valid."))
    quote_link_usable_check(link)
    return link


def quote_link_usable_check(link: QuoteLink) -> None:
    if link.used_at is not None:
        raise DomainError(_("This quote link was already used."))
    if link.revoked_at is not None:
        raise DomainError(_("This quote link was withdrawn; ask for a new one."))
    if link.expires_at <= timezone.now():
        raise DomainError(_("This quote link has expired; ask for a new one."))


def quote_for_contract(*, contract: Contract | int) -> Quote | None:
    """The accepted quote a contract was drafted from, if any."""
    return Quote.objects.filter(contract=contract).first()


def quote_order_initial_lines(*, contract: Contract) -> list[dict[str, Any]]:
    """The order form's first lines for an order against a contract drafted from a quote:
    the quote's products, quantities and discounts (the order takes today's prices)."""
    quote = quote_for_contract(contract=contract)
    if quote is None:
        return []
    return [
        {"product": line.product_id, "quantity": line.quantity, "discount_percent": line.discount_percent}
        for line in quote.lines.filter(product__is_active=True)
    ]


def quote_opportunity_get(*, user: Viewer, pk: int, action: str) -> Opportunity:
    """An opportunity the user may see (`action="view"`) or quote for (`"change"`); else 404."""
    return get_object_or_404(Opportunity.objects.visible_to(user, action).select_related("customer"), pk=pk)


def opportunity_may_quote(*, user: Viewer, opportunity: Opportunity) -> bool:
    return Opportunity.objects.visible_to(user, "change").filter(pk=opportunity.pk).exists()


def opportunity_quotes(*, user: Viewer, opportunity: Opportunity) -> QuerySet[Quote]:
    """An opportunity's quotes the user may see, newest revision first (its page's card)."""
    return quote_list(user=user).filter(opportunity=opportunity).order_by("-created_at", "-id")[:20]


def order_contract_fit(
    *,
    contract: Contract,
    customer: Customer,
    order_date: datetime.date,
    currency: str,
    total: Decimal,
    exclude_order_id: int | None = None,
    planned: Decimal = Decimal(0),
) -> Decimal:
    """Refuse an order that does not fit its contract's signed terms. The services call it
    holding the contract's lock; an import's dry run calls it without, `planned` being the
    file's earlier orders on the same contract. A contract whose signatures do not verify refuses, naming what changed.

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
    used = (others.aggregate(total=Sum("total"))["total"] or Decimal(0)) + planned
    remaining = signed.amount - used
    if total > remaining:
        raise DomainError(
            _("The order total %(total)s exceeds the contract's remaining %(remaining)s.")
            % {"total": _money(total, currency), "remaining": _money(remaining, signed.currency)},
            field="contract",
        )
    return used + total
