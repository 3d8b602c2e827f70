"""Checking one row of a file with the form a single record uses, fast enough for 100,000 rows."""

import copy
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance


def form_errors(form: forms.BaseForm) -> str:
    """A form's errors as one sentence for the row: "e-mail: Enter a valid email address."."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return "; ".join(parts)


class SharedFields(dict):
    """A row form's fields, copied once for all the rows instead of once per row (a form
    deep-copies its fields, choices and widgets on each instantiation; the rows only read
    them)."""

    def __deepcopy__(self, memo: dict) -> "SharedFields":
        return self


def share_fields(form_class: Any) -> Any:
    form_class.base_fields = SharedFields(copy.deepcopy(form_class.base_fields))
    return form_class


class RowFormMixin:
    """A form for one row of a file: the model's field validation, without one query per
    row for each database constraint (the importer checks duplicates for the whole batch
    with the same keys, and the choices are the fields' own)."""

    def validate_unique(self) -> None:
        pass

    def _post_clean(self) -> None:
        form: Any = self
        exclude = form._get_validation_exclusions()
        try:
            form.instance = construct_instance(form, form.instance, form._meta.fields, form._meta.exclude)
            form.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            form._update_errors(error)
