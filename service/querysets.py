from django.db.models import Q

from crm.core.visibility import VisibleQuerySet


class TicketQuerySet(VisibleQuerySet):
    """Agents see the tickets assigned to them and the unassigned queue; service managers
    (`view_all_ticket`) see all; a rep sees, read-only, the tickets of customers they own."""

    customer_path = "customer"

    def visible_to(self, user, action="view"):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if not user.has_perm(f"service.{action}_ticket"):
            return self.none()
        if user.has_perm("service.view_all_ticket"):
            return self
        rule = Q(pk__in=[])
        if user.has_perm("service.work_ticket"):
            rule |= Q(assignee=user) | Q(assignee__isnull=True)
        if action == "view":
            rule |= Q(customer__in=self._owned_customers(user))
        return self.filter(rule)

    def open(self):
        from service.choices import OPEN_STATUSES

        return self.filter(status__in=OPEN_STATUSES)


class TicketEntryQuerySet(VisibleQuerySet):
    """An entry is seen with its ticket."""

    def visible_to(self, user, action="view"):
        from service.models import Ticket

        return self.filter(ticket__in=Ticket.objects.visible_to(user, "view").values("pk"))
