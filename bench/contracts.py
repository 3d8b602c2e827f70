"""Seed 200,000 contracts into a scratch database and time the contract list and the approvals inbox.

    .venv/bin/python bench/contracts.py [--reseed] [--contracts N] [--customers N] [--runs R] [--explain-over MS]

The scratch database `crm_bench_contracts` is created on the server `DATABASE_URL` points
at (default: postgres@127.0.0.1:5432) and migrated. Customers and the demo users come from
`seed_demo --customers 20000`; the contracts are then bulk-loaded with COPY, which
BYPASSES THE SERVICES: no per-contract checks, no audit events, no versions, approval
steps or signatures behind the statuses. Every contract belongs to its customer's owner
(a demo rep); its number is CT-<year created>-<6 digits>, gap-free per year, and the
CT-<year> counters are moved past them so the real services continue after them.

Each page is requested through Django's test client (no network) as the sales manager
(sees every contract) and as a sales rep (sees only their own), a few times to warm up and
then `--runs` times; the number of SQL queries, the median and p95 server time and the
time spent in SQL are printed. For a page whose median is over `--explain-over` ms, the
slowest queries of one request are run again under EXPLAIN (ANALYZE, BUFFERS) and the
plans printed. Figures only: nothing here fails because a page is slow.
"""

import argparse
import datetime
import io
import json
import random
import sys
import time
from decimal import Decimal
from string import Template
from urllib.parse import urlencode, urlsplit

from common import (
    LOCMEM_EMAIL,
    TEST_CLIENT_HOSTS,
    bench_database_url,
    format_page_table,
    measure_pages,
    setup_django,
)

BENCH_DATABASE = "crm_bench_contracts"
BATCH = 20_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=200_000, help="contracts to bulk-load (default 200,000)")
    parser.add_argument("--customers", type=int, default=20_000, help="customers from seed_demo (default 20,000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument(
        "--explain-over", type=float, default=100.0, help="EXPLAIN ANALYZE pages with a median over this (ms)"
    )
    parser.add_argument("--reseed", action="store_true", help="drop the scratch database and seed again")
    return parser.parse_args()


# --- what the contracts look like ------------------------------------------------------------

# Mostly finished or running business; a thin layer of work in progress.
STATUS_WEIGHTS = {
    "active": 28,
    "completed": 30,
    "expired": 20,
    "terminated": 3,
    "cancelled": 4,
    "rejected": 4,
    "draft": 4,
    "pending_approval": 1.5,
    "approved": 2,
    "signing": 3.5,
}
SUBJECTS = {
    "en": [
        "Annual supply of hydraulic pumps",
        "Maintenance service for packaging lines",
        "Cloud hosting and technical support",
        "Warehouse automation retrofit",
        "Office furniture framework agreement",
        "Spare parts supply for CNC machines",
        "Logistics services for the eastern region",
        "Software licence and support renewal",
        "Solar panel installation",
        "Training programme for service engineers",
        "Preventive maintenance of HVAC systems",
        "Supply of industrial sensors",
        "Fleet management services",
        "Data centre cabling works",
        "Laboratory equipment supply",
        "Security guard services",
        "Marketing campaign production",
        "ERP implementation services",
        "Cleanroom consumables supply",
        "Forklift leasing agreement",
    ],
    "zh": [
        "年度液压泵供货合同",
        "包装生产线维护服务合同",
        "云主机托管与技术支持合同",
        "仓储自动化改造项目合同",
        "办公家具框架采购协议",
        "数控机床备件供应合同",
        "华东区物流服务合同",
        "软件许可与维护续约合同",
        "光伏电站安装工程合同",
        "售后工程师培训服务合同",
        "暖通空调系统维保合同",
        "工业传感器采购合同",
        "车队管理服务合同",
        "数据中心综合布线工程合同",
        "实验室设备采购合同",
        "安保服务合同",
        "品牌推广活动制作合同",
        "ERP系统实施服务合同",
        "洁净室耗材供应合同",
        "叉车租赁协议",
    ],
}
QUALIFIERS = {
    "en": ["", "", "", "", " - phase 2", " - Suzhou plant", " - head office", " (renewal)", " - framework"],
    "zh": ["", "", "", "", "（二期）", "（苏州工厂）", "（总部）", "（续签）", "（框架）"],
}
DURATIONS = [90, 180, 365, 365, 365, 730, 1095]
PAYMENT_TERMS = [15, 30, 30, 30, 45, 60, 60, 90, 120]
CURRENCIES = ["CNY"] * 17 + ["USD"] * 2 + ["EUR"]
END_REASONS = {
    "terminated": ["Customer closed the site.", "Breach of payment terms.", "客户业务调整，双方协商提前终止。"],
    "cancelled": ["Customer chose another supplier.", "Duplicate draft.", "客户取消采购计划。"],
}
MANAGER, FINANCE = "Sales manager", "Finance approver"
FINANCE_FROM = Decimal("1000000")  # the default approval rules: a finance approver from 1,000,000

COLUMNS = [
    "number", "customer_id", "template_id", "title", "body", "amount", "currency", "start_date", "end_date",
    "payment_terms_days", "owner_id", "status", "ordered_amount", "version", "approval_round",
    "required_levels", "awaiting_role", "submitted_by_id", "submitted_at", "decided_at", "ended_reason",
    "created_at", "updated_at",
]  # fmt: skip


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def plan_contracts(count, customers, now, rng):
    """Light rows (no body yet), oldest first: the numbers follow the creation order."""
    today = now.date()
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    # Some customers do much more business than others.
    customer_weights = [rng.choice([1, 1, 1, 2, 3, 5]) for _ in customers]
    picks = rng.choices(range(len(customers)), customer_weights, k=count)
    five_years = 5 * 365
    day = datetime.timedelta(days=1)
    rows = []
    for index in picks:
        customer_id, owner_id, name, _address, _email = customers[index]
        language = "zh" if _is_chinese(name) and rng.random() < 0.85 else "en"
        status = rng.choices(statuses, weights)[0]
        duration = rng.choice(DURATIONS)
        recent = status in ("draft", "pending_approval", "approved", "signing")
        if recent:
            # Work in progress: drafted in the last weeks, starting soon.
            created = now - datetime.timedelta(
                seconds=rng.uniform(0, (20 if status == "pending_approval" else 90) * 86400)
            )
            start = created.date() + rng.randint(5, 60) * day
        else:
            if status == "active":
                start = today - rng.randint(0, duration - 1) * day
            elif status in ("completed", "expired"):
                start = today - (duration + rng.randint(1, five_years - duration)) * day
            elif status == "terminated":
                start = today - rng.randint(30, five_years) * day
            else:  # cancelled, rejected
                start = today + rng.randint(-five_years, 60) * day
            created = datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC) - datetime.timedelta(
                seconds=rng.uniform(3, 60) * 86400
            )
            created = min(created, now - datetime.timedelta(seconds=rng.uniform(3600, 86400)))
        end = start + duration * day
        amount = Decimal(round(10 ** rng.uniform(4.3, 6.5 if rng.random() < 0.97 else 7.3), -2)).quantize(
            Decimal("0.01")
        )
        levels = [[1, MANAGER]] + ([[2, FINANCE]] if amount >= FINANCE_FROM else [])
        submitted_at = decided_at = None
        if status != "draft":
            submitted_at = min(now, created + datetime.timedelta(seconds=rng.uniform(0.1, 3) * 86400))
        if status not in ("draft", "pending_approval"):
            decided_at = min(now, submitted_at + datetime.timedelta(seconds=rng.uniform(0.1, 5) * 86400))
        awaiting = ""
        if status == "pending_approval":
            awaiting = FINANCE if len(levels) > 1 and rng.random() < 0.4 else MANAGER
        share = {
            "active": 0 if rng.random() < 0.15 else rng.random(),
            "completed": rng.uniform(0.9, 1.0),
            "expired": rng.uniform(0.5, 1.0),
            "terminated": rng.uniform(0.2, 0.9),
        }.get(status, 0)
        ordered = (amount * Decimal(share)).quantize(Decimal("0.01"))
        updated = decided_at or submitted_at or created
        if status in ("completed", "expired"):
            updated = datetime.datetime.combine(end, datetime.time(9), tzinfo=datetime.UTC)
        rows.append(
            {
                "customer": index,
                "language": language,
                "title": f"{rng.choice(SUBJECTS[language])}{rng.choice(QUALIFIERS[language])} {start.year}",
                "amount": amount,
                "currency": rng.choice(CURRENCIES),
                "start_date": start,
                "end_date": end,
                "payment_terms_days": rng.choice(PAYMENT_TERMS),
                "owner_id": owner_id,
                "status": status,
                "ordered_amount": ordered,
                "approval_round": 0 if status == "draft" else 1,
                "required_levels": json.dumps(levels if status != "draft" else []),
                "awaiting_role": awaiting,
                "submitted_by_id": owner_id if submitted_at else None,
                "submitted_at": submitted_at,
                "decided_at": decided_at,
                "ended_reason": rng.choice(END_REASONS[status]) if status in END_REASONS else "",
                "created_at": created,
                "updated_at": min(now, max(updated, created)),
                "template": rng.random() < 0.9,
            }
        )
    rows.sort(key=lambda row: row["created_at"])
    return rows


def bulk_load(args) -> str:
    """COPY the contracts in batches; bypasses the services (no checks, no audit, no history)."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from contracts.demo import contract_templates_ensure
    from crm.core.bulk import copy_rows
    from crm.core.models import DocumentSequence
    from customers.models import Customer

    rng = random.Random(f"contracts-{args.seed}")
    now = timezone.now()
    customers = list(Customer.objects.order_by("id").values_list("id", "owner_id", "name", "address", "email"))
    templates = {"en": [], "zh": []}
    for template in contract_templates_ensure():
        templates["zh" if _is_chinese(template.name) else "en"].append((template.pk, Template(template.body)))
    started = time.perf_counter()
    rows = plan_contracts(args.contracts, customers, now, rng)
    planned = time.perf_counter() - started

    # Numbers continue after any the services already gave out.
    last = dict(DocumentSequence.objects.filter(key__startswith="CT-").values_list("key", "last_value"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
        for offset in range(0, len(rows), BATCH):
            batch = []
            for row in rows[offset : offset + BATCH]:
                key = f"CT-{timezone.localtime(row['created_at']).year}"
                last[key] = last.get(key, 0) + 1
                customer_id, _owner, name, address, email = customers[row["customer"]]
                template_id, body = None, f"{row['title']}\n\n{name}\n{address}"
                choices = templates[row["language"]] or templates["en"]
                if row["template"] and choices:
                    template_id, template = rng.choice(choices)
                    body = template.substitute(
                        customer_name=name,
                        customer_address=address,
                        customer_email=email,
                        contract_title=row["title"],
                        amount=f"{row['amount']:,.2f}",
                        currency=row["currency"],
                        start_date=row["start_date"].isoformat(),
                        end_date=row["end_date"].isoformat(),
                        payment_terms_days=row["payment_terms_days"],
                        company_name=settings.COMPANY_NAME,
                    )
                values = {**row, "number": f"{key}-{last[key]:06d}", "customer_id": customer_id}
                values.update(template_id=template_id, body=body, version=1)
                batch.append([values[column] for column in COLUMNS])
            copy_rows(cursor, "contracts_contract", COLUMNS, batch)
            done = offset + len(batch)
            print(f"\r  loaded {done:,} / {len(rows):,} contracts", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        for key, value in last.items():
            DocumentSequence.objects.update_or_create(key=key, defaults={"last_value": value})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contracts_contract")
        cursor.execute("VACUUM ANALYZE customers_customer")
    return (
        f"{time.perf_counter() - started:.1f} s for {len(rows):,} contracts ({planned:.1f} s planning); "
        "COPY, services bypassed (no checks, audit events, versions, approval steps or signatures)"
    )


def seed(args) -> tuple[str, str]:
    """Seed what is missing; returns what happened to customers and contracts, for the report."""
    from django.core.management import call_command

    from contracts.models import Contract
    from customers.models import Customer

    if Customer.objects.count() < args.customers:
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers, seed=args.seed, stdout=io.StringIO())
        customers = f"seed_demo --customers {args.customers}: {time.perf_counter() - started:.1f} s"
    else:
        customers = f"skipped: {Customer.objects.count():,} customers already there"
    if Contract.objects.count() >= args.contracts:
        return customers, f"skipped: already holds {Contract.objects.count():,} contracts (--reseed to redo)"
    return customers, bulk_load(args)


# --- measuring -----------------------------------------------------------------------------


def pages():
    """(label, user, url) for every measured page, built from rows that exist."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from contracts.models import Contract
    from crm.core.demo import demo_user
    from crm.core.roles import Role
    from customers.models import Customer

    users = get_user_model().objects
    manager = users.get(username=demo_user(Role.SALES_MANAGER).username)
    rep = users.get(username=demo_user(Role.SALES_REP).username)
    # A Chinese company owned by the rep, with contracts: its brand and the start of its trade.
    customer = list(
        Customer.objects.filter(owner=rep, kind="company", name__regex=r"^[一-鿿]{8}", contracts__isnull=False)
        .order_by("id")
        .distinct()[:201]
    )[-1]
    name_fragment = customer.name[2:6]
    number_fragment = "000123"
    title_word = "maintenance"
    assert Contract.objects.filter(title__icontains=title_word).exists()
    contracts = reverse("contracts:contract_list")

    def url(**query):
        return f"{contracts}?{urlencode(query)}" if query else contracts

    common = [
        ("List, page 1", url()),
        ("List, page 2000", url(page=2000)),
        ("Status active", url(status="active")),
        (f"Search number {number_fragment!r}", url(q=number_fragment)),
        (f"Search title {title_word!r}", url(q=title_word)),
        (f"Search customer {name_fragment!r}", url(q=name_fragment)),
        ("Search '科技' (2 chars, no trigram)", url(q="科技")),
        ("Amount 100,000-500,000", url(amount_min=100000, amount_max=500000)),
        ("Expiring within 30 days", url(expiring_within=30)),
        ("Sort -amount", url(sort="-amount")),
        ("Sort -ordered", url(sort="-ordered")),
        ("Sort ordered (ascending)", url(sort="ordered")),
    ]
    result = [(label, manager, address) for label, address in common]
    result.append((f"Owner filter = {rep.username}", manager, url(owner=rep.pk)))
    result.append(("Approvals inbox", manager, reverse("contracts:approval_inbox")))
    result += [(f"{label} (rep)", rep, address) for label, address in common]
    return result


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def main():
    args = parse_args()
    database_url = bench_database_url(BENCH_DATABASE, reseed=args.reseed)
    setup_django(database_url, ALLOWED_HOSTS=TEST_CLIENT_HOSTS, EMAIL_BACKEND=LOCMEM_EMAIL)

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from contracts.models import Contract
    from customers.models import Customer

    call_command("migrate", verbosity=0, interactive=False)
    seeded_customers, seeded_contracts = seed(args)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('contracts_contract'))")
        table_size = cursor.fetchone()[0]

    by_status = dict(Contract.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    print(f"Database: {BENCH_DATABASE} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
    print(f"Rows: {Customer.objects.count():,} customers, {Contract.objects.count():,} contracts ({table_size})")
    print("By status: " + ", ".join(f"{status} {count:,}" for status, count in sorted(by_status.items())))
    print(f"Customers: {seeded_customers}")
    print(f"Contracts: {seeded_contracts}")
    print(
        "Note: the contracts are bulk-loaded with COPY, bypassing the services (no checks, audit events, "
        "versions, approval steps or signatures); ordered_amount is set directly (active, completed, "
        "expired, terminated)."
    )
    print(f"Each page: {args.warmups} warm-up requests, then {args.runs} timed (server time via the test client)")
    print()

    rows = measure_pages(pages(), args.runs, args.warmups, progress=True)

    print(format_page_table(rows))
    print()
    print("SQL ms: median time inside the database per request; the rest is Python and templates.")

    slow = [row for row in rows if row[2]["median"] > args.explain_over]
    if not slow:
        return
    print()
    print(f"=== EXPLAIN (ANALYZE, BUFFERS) of the slowest queries of pages over {args.explain_over:.0f} ms ===")
    for label, username, result, _url in slow:
        queries = sorted(result["captured"], key=lambda query: -float(query["time"]))
        heavy = [query for query in queries if float(query["time"]) * 1000 >= 10][:3] or queries[:1]
        for query in heavy:
            print()
            print(f"--- {label} as {username}: {float(query['time']) * 1000:.1f} ms in the request ---")
            print(query["sql"])
            print(explain(query["sql"]))


if __name__ == "__main__":
    main()
