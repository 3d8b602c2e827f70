"""Dates and times: the years people may enter, and reading any value the database holds.

Every date and time a person types (an interaction's time, a contract's period, an order's
date) keeps to FIRST_DAY..LAST_DAY: `SensibleDatesMixin` checks every editable date and
time field of a model in `clean_fields`, so forms show the message next to the field and
services, which call `full_clean`, refuse the same values.

A value written past validation (psql, an import) may still lie outside what Python can
hold or convert to local time (year 1 in Shanghai is 1 BC in UTC; 9999-12-31 23:59 UTC is
the year 10000 in Shanghai). `install_lenient_date_loaders` makes the database driver read
such a value as the nearest day every page can show, so no page breaks on it.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2999, 12, 31)

# For date inputs, so the browser's picker keeps to them too.
DATE_INPUT_BOUNDS = {"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()}
DATETIME_INPUT_BOUNDS = {"min": f"{FIRST_DAY.isoformat()}T00:00", "max": f"{LAST_DAY.isoformat()}T23:59"}

# A day inside Python's calendar on either side, so converting to any time zone works.
READABLE_FIRST = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)
READABLE_LAST = datetime.datetime(9999, 12, 30, tzinfo=datetime.UTC)


def validate_sensible_date(value) -> None:
    """Refuse a date, or a date and time (read in the current time zone when naive),
    outside FIRST_DAY..LAST_DAY."""
    if isinstance(value, datetime.datetime):
        zone = value.tzinfo or timezone.get_current_timezone()
        first = datetime.datetime.combine(FIRST_DAY, datetime.time.min, tzinfo=zone)
        last = datetime.datetime.combine(LAST_DAY, datetime.time.max, tzinfo=zone)
        inside = first <= (value if value.tzinfo else value.replace(tzinfo=zone)) <= last
    else:
        inside = FIRST_DAY <= value <= LAST_DAY
    if not inside:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            code="date_out_of_range",
            params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )


class SensibleDatesMixin:
    """For models: every editable date and time field keeps to sensible years (no migration
    needed, and a field added later is covered too)."""

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self._meta.concrete_fields:
            if not isinstance(field, models.DateField) or not field.editable:
                continue
            if (exclude and field.name in exclude) or field.name in errors:
                continue
            value = getattr(self, field.attname)
            if not isinstance(value, datetime.date):
                continue
            try:
                validate_sensible_date(value)
            except ValidationError as error:
                errors.setdefault(field.name, []).extend(error.error_list)
        if errors:
            raise ValidationError(errors)


def _lenient(typecaster, first, last):
    def cast(value, cursor):
        try:
            result = typecaster(value, cursor)
        except ValueError:  # before year 1 ("... BC") or after 9999
            return first if value.endswith("BC") else last
        if result is not None and isinstance(result, datetime.datetime):
            return min(max(result, first), last)
        return result

    return cast


def install_lenient_date_loaders() -> None:
    """Read out-of-range dates and times as the nearest readable ones (psycopg2, all connections)."""
    try:
        from psycopg2 import extensions
    except ImportError:  # pragma: no cover - another driver
        return
    for name, typecaster, first, last in (
        ("TIMESTAMPTZ_LENIENT", extensions.PYDATETIMETZ, READABLE_FIRST, READABLE_LAST),
        ("DATE_LENIENT", extensions.PYDATE, datetime.date.min, datetime.date.max),
    ):
        extensions.register_type(extensions.new_type(typecaster.values, name, _lenient(typecaster, first, last)))
