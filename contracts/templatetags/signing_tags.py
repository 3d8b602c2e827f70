"""Presentation for certificates and verification results that people compare across
countries and print: times with their zone named ("2026-12-01 14:03:22 CST (UTC+08:00)",
"2026-12-01 06:03:22 UTC") and the verification address as an inline SVG QR code (no
data: URI and no script, so a Content-Security-Policy with img-src 'self' allows it)."""

import datetime

import segno
from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def _offset(moment: datetime.datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


@register.filter
def zoned(value):
    """The time in the display time zone, with the zone's abbreviation and its offset."""
    if not isinstance(value, datetime.datetime):
        return ""
    if not timezone.is_aware(value):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({_offset(local)})"


@register.filter
def utc(value):
    """The same time in UTC."""
    if not isinstance(value, datetime.datetime) or not timezone.is_aware(value):
        return ""
    return f"{value.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC"


@register.simple_tag
def qr_svg(address, scale=3):
    """Inline SVG markup of a QR code for `address` (segno writes only path data)."""
    if not address:
        return ""
    svg = segno.make(str(address), error="m").svg_inline(scale=scale)
    label = escape(_("QR code of the verification address"))
    return mark_safe(svg.replace("<svg ", f'<svg data-testid="verify-qr" role="img" aria-label="{label}" ', 1))
