"""Read-only figures for the dashboard, always over what the user may see."""

from typing import Any

from django.db.models import Count

from crm.core.types import Viewer
from customers.choices import CustomerStatus
from customers.selectors import customer_list


def dashboard_summary(*, user: Viewer) -> dict[str, Any]:
    customers = customer_list(user=user)
    counts = dict(customers.order_by().values_list("status").annotate(total=Count("id")))
    return {
        "status_counts": [(label, counts.get(value, 0), value) for value, label in CustomerStatus.choices],
        "customer_total": sum(counts.values()),
        "recent_customers": customers.order_by("-updated_at", "-id")[:8],
    }
