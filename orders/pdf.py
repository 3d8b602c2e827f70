"""A quote as a PDF: the HTML template `orders/quote_pdf.html` laid out by WeasyPrint, in
the quote's language, with the Noto CJK fonts for Chinese (text that `pdftotext` reads back)."""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

from crm.core.masking import REVEALED, Masker
from orders.models import Quote, QuoteLine
from orders.selectors import quote_discount_percent, quote_lines

STYLESHEET = "css/quote_pdf.css"


def quote_html(quote: Quote, lines: Iterable[QuoteLine] | None = None, masker: Masker = REVEALED) -> str:
    """The quote in its language: as the customer reads it (unmasked: it is theirs), or
    masked for a member of staff who downloads it. `lines` default to the stored ones (the
    benchmark passes lines it never saved)."""
    with translation.override(quote.language):
        return render_to_string(
            "orders/quote_pdf.html",
            {
                "quote": quote,
                "lines": quote_lines(quote) if lines is None else lines,
                "company_name": settings.COMPANY_NAME,
                "masker": masker,
                "discount_percent": quote_discount_percent(
                    listed=quote.net_total + quote.discount_total, discount=quote.discount_total
                ),
            },
        )


def quote_pdf(quote: Quote, lines: Iterable[QuoteLine] | None = None, masker: Masker = REVEALED) -> bytes:
    from weasyprint import CSS, HTML  # imported when used: it loads pango

    stylesheet = CSS(filename=finders.find(STYLESHEET))
    return HTML(string=quote_html(quote, lines, masker)).write_pdf(stylesheets=[stylesheet])
