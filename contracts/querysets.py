from django.db.models import F

from crm.core.visibility import VisibleQuerySet


class ContractQuerySet(VisibleQuerySet):
    """A rep sees the contracts of the customers they own, whoever drafted them."""

    customer_owner_path = "customer_owner"


class ApprovalStepQuerySet(VisibleQuerySet):
    customer_owner_path = "contract__customer_owner"
    view_all_permission = "contracts.view_all_contract"

    def current(self):
        """Decisions of each contract's current approval round that were not voided."""
        return self.filter(round=F("contract__approval_round"), voided_at__isnull=True)
