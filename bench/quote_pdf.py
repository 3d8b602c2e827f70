"""Time the render of one quote PDF (WeasyPrint, HTML to PDF) in English and in Chinese.

    .venv/bin/python bench/quote_pdf.py [--lines N] [--runs R]

The quote and its lines are built in memory (nothing is stored, so no database is needed
beyond Django's set-up); each language is rendered once to warm up and then `--runs`
times, and the median and p95 time and the PDF's size are printed. Figures only.
Needs Debian's pango, the Noto CJK fonts and HarfBuzz's subsetter (libharfbuzz-subset0):
without the subsetter WeasyPrint falls back to fontTools, about 15 times slower on CJK.
"""

import argparse
import datetime
import statistics
import time
from decimal import Decimal

from common import p95, setup_django


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10, help="lines on the quote (default 10)")
    parser.add_argument("--runs", type=int, default=10, help="timed renders per language (default 10)")
    return parser.parse_args()


def build(language, lines):
    from django.utils import timezone

    from customers.models import Customer
    from orders.models import Product, Quote, QuoteLine, quote_line_amounts

    customer = Customer(name="杭州茶叶有限公司 Hangzhou Tea Co", address="浙江省杭州市西湖区文三路 90 号")
    quote = Quote(
        number="QT-2026-000123",
        customer=customer,
        title="输送机升级 Conveyor upgrade",
        language=language,
        valid_until=datetime.date(2026, 12, 31),
        terms="以上价格在有效期内有效。Payment within 30 days of invoice.",
        created_at=timezone.now(),
    )
    made, net, tax = [], Decimal(0), Decimal(0)
    for index in range(lines):
        product = Product(sku=f"HP-{index:04d}", name=f"液压泵 Hydraulic pump {index}", unit_price=Decimal("1234.50"))
        amounts = quote_line_amounts(Decimal(index + 1), product.unit_price, Decimal(5), Decimal(13))
        made.append(
            QuoteLine(
                product=product,
                quantity=Decimal(index + 1),
                unit_price=product.unit_price,
                discount_percent=Decimal(5),
                tax_rate=Decimal(13),
                **{k: amounts[k] for k in ("net", "tax", "gross")},
            )
        )
        net, tax = net + amounts["net"], tax + amounts["tax"]
    quote.net_total, quote.tax_total, quote.gross_total = net, tax, net + tax
    return quote, made


def main():
    args = parse_args()
    setup_django("postgres://unused@127.0.0.1:1/unused")
    from orders.pdf import quote_pdf

    print(f"Quote PDF render, {args.lines} lines, {args.runs} runs each")
    print(f"{'language':<10} {'median s':>9} {'p95 s':>7} {'size KiB':>9}")
    for language in ("en", "zh-hans"):
        quote, lines = build(language, args.lines)
        size = len(quote_pdf(quote, lines))  # warm-up
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            quote_pdf(quote, lines)
            times.append(time.perf_counter() - started)
        print(f"{language:<10} {statistics.median(times):>9.3f} {p95(times):>7.3f} {size / 1024:>9.1f}")


if __name__ == "__main__":
    main()
