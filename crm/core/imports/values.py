"""Reading the values of messy files: dates, amounts, phone numbers, yes/no.

Each parser takes what the reader gave (text from a CSV, or a number or a date from an
XLSX cell) and returns the value, or raises ValueError with a sentence for the row's
report.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an XLSX number typed into a text column: 13800135678.0
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    return str(value).strip()


_YMD = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
EXCEL_EPOCH = datetime.date(1899, 12, 30)


def date(value: Any) -> datetime.date | None:
    """2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 05.03.2024, 15/3/2024, an XLSX date or an
    Excel day number; a day and month both 12 or less in D/M/Y order are ambiguous and refused."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and 1 <= value < 100000:
        return EXCEL_EPOCH + datetime.timedelta(days=int(value))
    raw = str(value).strip()
    if not raw:
        return None
    if match := _YMD.match(raw):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DMY.match(raw):
        first, second, year = (int(part) for part in match.groups())
        if raw[len(match.group(1))] == "." or first > 12:  # 05.03.2024: day first, as it is written with dots
            day, month = first, second
        elif second > 12 or first == second:
            day, month = second, first
        else:
            raise ValueError(_("%(value)s is ambiguous (day and month); write it as YYYY-MM-DD.") % {"value": raw})
    else:
        raise ValueError(_("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": raw})
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(_("%(value)s is not a date.") % {"value": raw}) from None


_CURRENCY = re.compile(r"^(?:[¥￥$]|CNY|RMB|USD)\s*|\s*(?:元|CNY|RMB|USD)$", re.IGNORECASE)


def amount(value: Any) -> Decimal | None:
    """1234.5, 1,234.50, ¥1,234.50, CNY 1 234.50, 1.234,50, 1234元; an XLSX number as is."""
    if value is None or value == "":
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    raw = str(value).strip()
    cleaned = _CURRENCY.sub("", raw).strip()
    cleaned = re.sub(r"[\s\u00a0']", "", cleaned)
    if "," in cleaned and "." in cleaned and cleaned.rfind(",") > cleaned.rfind("."):
        cleaned = cleaned.replace(".", "").replace(",", ".")  # 1.234,50
    elif re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    elif re.fullmatch(r"-?\d+,\d{1,2}", cleaned):
        cleaned = cleaned.replace(",", ".")  # 12,5
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("%(value)s is not an amount.") % {"value": raw}) from None
    if not number.is_finite():
        raise ValueError(_("%(value)s is not an amount.") % {"value": raw})
    return number


_CN_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")


def phone(value: Any) -> str:
    """A phone number without the spaces, dashes and brackets people type; a Chinese mobile
    with +86, 0086 or 86 in front becomes its 11 digits (as single records store it)."""
    raw = text(value)
    if not raw:
        return ""
    compact = re.sub(r"[\s\u00a0\-().·]", "", raw)
    if match := _CN_MOBILE.match(compact):
        return match.group(1)
    if not re.fullmatch(r"\+?\d{5,20}", compact):
        raise ValueError(_("%(value)s is not a phone number.") % {"value": raw})
    return compact


_TRUE = {"1", "y", "yes", "true", "x", "是", "对", "√", "✓"}
_FALSE = {"", "0", "n", "no", "false", "否", "不"}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(_("%(value)s is not yes or no.") % {"value": raw})


def choice_lookup(choices) -> dict[str, str]:
    """{value or label, lower case, in every language: value} for a TextChoices class."""
    from django.conf import settings
    from django.utils import translation

    lookup = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for value, label in choices.choices:
                lookup[str(label).strip().lower()] = value
    for value in choices.values:
        lookup[str(value).lower()] = value
    return lookup


def choice(value: Any, lookup: dict[str, str], default: str = "") -> str:
    raw = text(value)
    if not raw:
        return default
    found = lookup.get(raw.lower())
    if found is None:
        raise ValueError(_("%(value)s is not one of the offered choices.") % {"value": raw})
    return found
