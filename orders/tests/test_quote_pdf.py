"""The quote PDF: rendered from HTML by WeasyPrint, its text read back with pdftotext
(Debian's poppler-utils), in English and in Chinese with real CJK fonts."""

import shutil
import subprocess
from decimal import Decimal

import pytest
from django.test import override_settings

from orders.pdf import quote_pdf
from orders.tests.factories import ProductFactory, opportunity_for, quote_for, quote_line

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext missing: apt-get install poppler-utils"),
]


def pdf_text(data: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture
def quote_in(rep, customer, manager):
    product = ProductFactory(actor=manager, sku="HP-100", name="Hydraulic pump", unit_price=Decimal("1234.50"))

    def make(language, **values):
        opportunity = opportunity_for(rep, customer, title="Conveyor upgrade")
        return quote_for(
            rep, opportunity, lines=[quote_line(product, 2, discount_percent=5)], language=language, **values
        )

    return make


@override_settings(COMPANY_NAME="Shanghai Pumps Ltd.")
def test_the_english_pdf_names_company_customer_lines_totals_and_terms(quote_in):
    quote = quote_in("en")
    data = quote_pdf(quote)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for expected in [
        "Shanghai Pumps Ltd.",
        f"Quote {quote.number}",
        "Hangzhou Tea Co",
        "HP-100 · Hydraulic pump",
        "Valid until",
        "2,345.55",  # net: 2 × 1,234.50 less 5 %
        "304.92",  # 13 % tax
        "2,650.47 CNY",  # gross
        "Payment within 30 days",  # the default English terms
    ]:
        assert expected in text, f"{expected!r} not in the PDF's text:\n{text}"


@override_settings(COMPANY_NAME="上海泵业有限公司")
def test_the_chinese_pdf_has_extractable_chinese_text(quote_in):
    quote = quote_in("zh-hans", title="输送机升级")
    text = pdf_text(quote_pdf(quote))
    for expected in ["上海泵业有限公司", "报价单", "输送机升级", "有效期至", "总额", "发票开具后 30 天内付款"]:
        assert expected in text, f"{expected!r} not in the PDF's text:\n{text}"
