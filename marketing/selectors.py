"""Reads of marketing: segments and their members, campaigns, who a campaign reaches, a
sample recipient, and a campaign's results."""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.models import Contract
from crm.core.tokens import token_hash
from crm.core.types import Viewer
from customers.models import Contact, Customer, Opportunity
from marketing.choices import CampaignStatus, RecipientStatus
from marketing.inbound import ReturnedMessage
from marketing.models import Campaign, CampaignOpportunity, Recipient, Segment, Suppression
from marketing.rendering import Sample
from orders.choices import OrderStatus
from orders.models import Order

# Orders that count as orders for a segment: placed, not drafts, not cancelled.
NOT_ORDERS = (OrderStatus.DRAFT, OrderStatus.CANCELLED)
# The contracts a campaign's revenue counts: signed by both sides.
SIGNED_CONTRACTS = (ContractStatus.ACTIVE, ContractStatus.COMPLETED)

# The insight issue's k-means segments: crm.insight (the top floor) registers a provider,
# `provider(queryset, cluster) -> queryset` plus its choices; until then the criterion is
# not offered, and a segment that names a cluster holds nobody rather than everybody.
_cluster_provider: dict[str, Any] = {}


def segment_cluster_provider_register(
    *, apply: Callable[[QuerySet, str], QuerySet], choices: Callable[[], list]
) -> None:
    _cluster_provider.update(apply=apply, choices=choices)


def segment_cluster_choices() -> list:
    return list(_cluster_provider["choices"]()) if _cluster_provider else []


def segment_list(*, user: Viewer) -> QuerySet[Segment]:
    return Segment.objects.visible_to(user).select_related("owner")


def segment_get(*, user: Viewer, pk: int, action: str = "view") -> Segment:
    return get_object_or_404(Segment.objects.visible_to(user, action).select_related("owner"), pk=pk)


def customers_matching(*, criteria: Mapping[str, Any], owner: Viewer, user: Viewer) -> QuerySet[Customer]:
    """The customers a segment's criteria select: among those its owner may see, and of
    those only the ones `user` may see (a manager reading a rep's segment sees the rep's
    customers; a rep's segment never holds another rep's)."""
    queryset = Customer.objects.visible_to(owner)
    if getattr(user, "pk", None) != getattr(owner, "pk", None):
        queryset = queryset & Customer.objects.visible_to(user)
    if criteria.get("statuses"):
        queryset = queryset.filter(status__in=criteria["statuses"])
    if criteria.get("industries"):
        queryset = queryset.filter(industry__in=criteria["industries"])
    if criteria.get("tiers"):
        queryset = queryset.filter(tier__in=criteria["tiers"])
    if criteria.get("regions"):
        queryset = queryset.filter(region__in=criteria["regions"])
    if criteria.get("customer_owner"):
        queryset = queryset.filter(owner=criteria["customer_owner"])
    orders = Order.objects.filter(customer=OuterRef("pk")).exclude(status__in=NOT_ORDERS)
    after, before = criteria.get("last_order_after"), criteria.get("last_order_before")
    if after or before:
        dated = orders
        if after:
            dated = dated.filter(order_date__gte=after)
        # The last order is on or before `before`: an order in range, and none after it.
        if before:
            queryset = queryset.exclude(Exists(orders.filter(order_date__gt=before)))
            dated = dated.filter(order_date__lte=before)
        queryset = queryset.filter(Exists(dated))
    minimum, maximum = criteria.get("min_orders"), criteria.get("max_orders")
    if minimum is not None or maximum is not None:
        counted = orders.order_by().values("customer").annotate(n=Count("pk")).values("n")
        queryset = queryset.annotate(order_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
        if minimum is not None:
            queryset = queryset.filter(order_count__gte=minimum)
        if maximum is not None:
            queryset = queryset.filter(order_count__lte=maximum)
    cluster = criteria.get("insight_cluster")
    if cluster:
        queryset = _cluster_provider["apply"](queryset, cluster) if _cluster_provider else queryset.none()
    return queryset


def segment_criteria(segment: Segment) -> dict[str, Any]:
    return {
        "statuses": segment.statuses,
        "industries": segment.industries,
        "tiers": segment.tiers,
        "regions": segment.regions,
        "customer_owner": segment.customer_owner_id,
        "last_order_after": segment.last_order_after,
        "last_order_before": segment.last_order_before,
        "min_orders": segment.min_orders,
        "max_orders": segment.max_orders,
        "insight_cluster": segment.insight_cluster,
    }


def segment_customers(*, segment: Segment, user: Viewer) -> QuerySet[Customer]:
    return customers_matching(criteria=segment_criteria(segment), owner=segment.owner, user=user)


def reachable_contacts(customers: QuerySet[Customer]) -> QuerySet[Contact]:
    """The contacts of these customers a campaign may mail: with an address, with consent
    to marketing e-mail, and not on the suppression list (unsubscribed or bounced)."""
    suppressed = Suppression.objects.filter(email=Lower(OuterRef("email")))
    return (
        Contact.objects.filter(customer__in=customers.values("pk"), marketing_consent=True)
        .exclude(email="")
        .exclude(Exists(suppressed))
        .select_related("customer")
        .order_by("pk")
    )


@dataclass(frozen=True)
class Audience:
    customers: int
    contacts: int
    reachable: int


def audience_count(customers: QuerySet[Customer]) -> Audience:
    """The live count of a segment: its customers, their contacts, and whom a campaign mails."""
    ids = customers.values("pk")
    return Audience(
        customers=customers.order_by().count(),
        contacts=Contact.objects.filter(customer__in=ids).count(),
        reachable=reachable_contacts(customers).values("email").distinct().count(),
    )


def campaign_list(*, user: Viewer) -> QuerySet[Campaign]:
    return Campaign.objects.visible_to(user).select_related("owner", "segment")


def campaign_get(*, user: Viewer, pk: int, action: str = "view") -> Campaign:
    return get_object_or_404(Campaign.objects.visible_to(user, action).select_related("owner", "segment"), pk=pk)


def campaign_reachable(*, campaign: Campaign, user: Viewer) -> QuerySet[Contact]:
    return reachable_contacts(segment_customers(segment=campaign.segment, user=user))


def sample_for(*, campaign: Campaign, contact: Contact | None) -> Sample:
    """The values a contact's copy is filled with (for the preview, the test and the send)."""
    owner = campaign.owner
    customer = contact.customer if contact is not None else None
    return Sample(
        contact_name=contact.name if contact else "",
        contact_title=contact.title if contact else "",
        customer_name=customer.name if customer else "",
        customer_industry=str(customer.get_industry_display()) if customer else "",
        sender_name=owner.get_full_name() or owner.get_username(),
        campaign_name=campaign.name,
    )


def campaign_sample_contact(*, campaign: Campaign, user: Viewer, contact_id: int | None = None) -> Contact | None:
    """The contact a preview is shown for: the one asked for if the campaign reaches them and
    the user may see them, else the first it reaches."""
    reachable = campaign_reachable(campaign=campaign, user=user)
    if contact_id is not None:
        chosen = reachable.filter(pk=contact_id).first()
        if chosen is not None:
            return chosen
    return reachable.first()


def campaigns_due(now: datetime.datetime | None = None) -> list[int]:
    """The scheduled campaigns whose time has come, first due first."""
    return list(
        Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now or timezone.now())
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)
    )


def recipient_by_token(token: str) -> Recipient | None:
    if not token or len(token) > 100:
        return None
    return Recipient.objects.select_related("campaign").filter(token_hash=token_hash(token)).first()


def returned_mail_recipient(parsed: ReturnedMessage) -> Recipient | None:
    """The recipient a bounce or reply names: by a return-path or Message-ID token, else by
    the quoted campaign and the address that failed."""
    for token in parsed.return_tokens:
        found = Recipient.objects.filter(return_token_hash=token_hash(token)).first()
        if found is not None:
            return found
    if parsed.campaign_id and parsed.address:
        return Recipient.objects.filter(campaign_id=parsed.campaign_id, email=parsed.address.lower()).first()
    return None


def recipient_list(*, campaign: Campaign) -> QuerySet[Recipient]:
    return campaign.recipients.order_by("id")


@dataclass
class Results:
    by_status: dict[str, int] = field(default_factory=dict)
    total: int = 0
    clicked: int = 0
    clicks: int = 0
    opportunities: list = field(default_factory=list)
    opportunity_amounts: dict[str, Decimal] = field(default_factory=dict)
    revenue: dict[str, Decimal] = field(default_factory=dict)
    contracts: int = 0
    replied: int = 0
    soft_bounced: int = 0

    @property
    def delivered(self) -> int:
        return self.by_status.get(RecipientStatus.SENT, 0) + self.by_status.get(RecipientStatus.UNSUBSCRIBED, 0)


def campaign_results(*, campaign: Campaign, user: Viewer) -> Results:
    """Sent, failed, bounced, unsubscribed, clicked, replied; the opportunities opened with the campaign
    as their source (those the user may see listed, all counted), and the revenue of the signed
    contracts that came of them, by currency."""
    results = Results()
    for row in campaign.recipients.order_by().values("status").annotate(n=Count("pk")):
        results.by_status[row["status"]] = row["n"]
    results.total = sum(results.by_status.values())
    clicks = campaign.recipients.aggregate(
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        clicks=Coalesce(Sum("click_count"), 0),
        replied=Count("pk", filter=Q(replied_at__isnull=False)),
        soft_bounced=Count("pk", filter=Q(soft_bounces__gt=0)),
    )
    results.clicked, results.clicks = clicks["clicked"], clicks["clicks"]
    results.replied, results.soft_bounced = clicks["replied"], clicks["soft_bounced"]
    linked = CampaignOpportunity.objects.filter(campaign=campaign).values("opportunity_id")
    opportunities = Opportunity.objects.filter(pk__in=linked)
    for row in opportunities.order_by().values("currency").annotate(total=Sum("amount")):
        results.opportunity_amounts[row["currency"]] = row["total"]
    results.opportunities = list(
        Opportunity.objects.visible_to(user).filter(pk__in=linked).select_related("customer").order_by("-created_at")
    )
    contracts = Contract.objects.filter(quote__opportunity__in=linked, status__in=SIGNED_CONTRACTS)
    for row in contracts.order_by().values("currency").annotate(total=Sum("amount"), n=Count("pk")):
        results.revenue[row["currency"]] = row["total"]
        results.contracts += row["n"]
    return results
