"""Filter pieces every app's list pages share."""

import django_filters


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorting with the primary key as a tie-breaker, so pages never overlap."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        ordering = list(qs.query.order_by) or list(qs.model._meta.ordering)
        if "pk" not in ordering and "id" not in ordering and "-id" not in ordering:
            ordering.append("-pk" if ordering and str(ordering[0]).startswith("-") else "pk")
        return qs.order_by(*ordering)
