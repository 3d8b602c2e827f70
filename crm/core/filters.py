"""Filter pieces every app's list pages share.

Drop-downs say what their empty choice means instead of Django's `---------`: "All" for a
choice among values (every status), "Any" for a choice among records (any owner), and
"Default order" for the sort."""

import django_filters
from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorting with the primary key as a tie-breaker, so pages never overlap. Each field's
    label comes from `field_labels` (translated), its descending choice from our catalog.
    `then` names, for a field with few values (a status), the fields that order the rows
    sharing one value, in the same direction: as the field's index is built, so a page deep
    in the list walks that index instead of sorting every row of the value."""

    def __init__(self, *args, then=None, **kwargs):
        self.then = then or {}
        super().__init__(*args, **kwargs)

    def build_choices(self, fields, labels):
        ascending = [(param, labels.get(field, param)) for field, param in fields.items()]
        descending = [(f"-{param}", format_lazy(_("{label} (descending)"), label=label)) for param, label in ascending]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        ordering = []
        for item in list(qs.query.order_by) or list(qs.model._meta.ordering):
            ordering.append(item)
            if isinstance(item, str):
                sign = "-" if item.startswith("-") else ""
                ordering += [f"{sign}{field}" for field in self.then.get(item.lstrip("-"), ())]
        if "pk" not in ordering and "id" not in ordering and "-id" not in ordering:
            ordering.append("-pk" if ordering and str(ordering[0]).startswith("-") else "pk")
        return qs.order_by(*ordering)


ALL = _("All")
ANY = _("Any")
DEFAULT_ORDER = _("Default order")


class CrmFilterSet(django_filters.FilterSet):
    @property
    def form(self):
        form = super().form
        if not getattr(form, "_crm_empty_labels", False):
            for name, field in form.fields.items():
                _label_empty_choice(field, self.filters.get(name))
            form._crm_empty_labels = True
        return form


def _label_empty_choice(field, filter_):
    """django-filter's choice fields read `empty_label` when they list their choices; the
    widget keeps an iterator of its own (copied with the form), so it is given the field's."""
    if not isinstance(field, forms.ChoiceField) or getattr(field, "empty_label", None) is None:
        return
    if isinstance(field, forms.ModelChoiceField):
        field.empty_label = ANY
    elif isinstance(filter_, django_filters.OrderingFilter):
        field.empty_label = DEFAULT_ORDER
    else:
        field.empty_label = ALL
    field.widget.choices = field.choices
