from django.db.models import F, Q

from crm.core.visibility import VisibleQuerySet
from customers.models import Customer


class ContractQuerySet(VisibleQuerySet):
    def owned_by(self, user):
        """A rep sees the contracts they own and those of the customers they own (a
        subquery, not a join, so the check runs on contract columns alone)."""
        return self.filter(Q(owner=user) | Q(customer__in=Customer.objects.filter(owner=user).values("pk")))


class ApprovalStepQuerySet(VisibleQuerySet):
    view_all_permission = "contracts.view_all_contract"

    def owned_by(self, user):
        owned_customers = Customer.objects.filter(owner=user).values("pk")
        return self.filter(Q(contract__owner=user) | Q(contract__customer__in=owned_customers))

    def current(self):
        """Decisions of each contract's current approval round that were not voided."""
        return self.filter(round=F("contract__approval_round"), voided_at__isnull=True)
