"""Import 100,000 customers from a CSV file through the import framework and print the rate.

    .venv/bin/python bench/import_customers.py [--rows N] [--encoding utf-8|gb18030]

A scratch database (`crm_bench_imports`, or --database) is created afresh on the server DATABASE_URL points
at (default: postgres@127.0.0.1:5432) and migrated. The script writes a CSV of N customers
(Chinese and English names, e-mails, phones typed with spaces and +86, statuses and
industries by their Chinese labels, one row in a thousand a duplicate within the file and
one in a thousand with a bad e-mail), uploads it as a sales rep, runs the dry run and then
the valid-only commit, the same services the page and `import_records` call (every row
through CustomerForm and the duplicate keys; one `customer.created` audit event per
customer), and prints the time of each step and the rows per second.
"""

import argparse
import csv
import io
import os
import random
import sys
import time

from common import bench_database_url, setup_django

BENCH_DATABASE = "crm_bench_imports"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="customer rows (default 100,000)")
    parser.add_argument("--encoding", default="gb18030", choices=["utf-8", "utf-8-sig", "gb18030"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database", default=BENCH_DATABASE, help=f"scratch database, dropped first (default {BENCH_DATABASE})"
    )
    return parser.parse_args()


def customer_file(rows: int, encoding: str, seed: int) -> bytes:
    rng = random.Random(seed)
    statuses, industries = ["潜在客户", "有效", "prospect", "Lead"], ["制造业", "零售", "other", "technology"]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["客户编号", "客户名称", "邮箱", "电话", "状态", "行业", "地址", "备注"])
    for number in range(rows):
        n = number - 1 if number % 1000 == 999 else number  # a duplicate of the previous row
        email = "not-an-email" if number % 1000 == 500 else f"buyer{n}@company{n}.example.cn"
        phone = f"+86 13{n % 10} {n // 10000 % 10000:04d} {n % 10000:04d}"
        name = f"上海测试贸易{n}有限公司" if n % 2 else f"Bench Trading {n} Ltd"
        writer.writerow(
            [f"B-{number}", name, email, phone, rng.choice(statuses), rng.choice(industries), "上海市浦东新区", ""]
        )
    return out.getvalue().encode(encoding)


def main():
    args = parse_args()
    setup_django(bench_database_url(args.database, reseed=True))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from crm.core.audit import audit_seal
    from crm.core.imports import services
    from crm.core.roles import Role
    from crm.core.tests.factories import UserFactory
    from customers.models import Customer

    rep = UserFactory(username="bench_rep", role=Role.SALES_REP)
    content = customer_file(args.rows, args.encoding, args.seed)
    print(f"{args.rows:,} rows, {len(content) / 2**20:.1f} MiB, {args.encoding}, ';' separated", flush=True)

    started = time.perf_counter()
    run = services.import_run_create(actor=rep, kind="customers", file_name="bench.csv", content=content)
    upload = time.perf_counter() - started
    cpu = time.process_time()
    started = time.perf_counter()
    run = services.import_run_check(actor=rep, run_id=run.pk, background=False)
    check = time.perf_counter() - started
    started = time.perf_counter()
    run = services.import_run_commit(actor=rep, run_id=run.pk, valid_only=True, background=False)
    commit = time.perf_counter() - started
    started = time.perf_counter()
    audit_seal()  # what the after-commit seal has not chained yet
    seal = time.perf_counter() - started
    cpu = time.process_time() - cpu
    total = upload + check + commit
    print(f"upload and read:     {upload:6.1f} s")
    print(f"dry run (check):     {check:6.1f} s   {args.rows / check:8,.0f} rows/s")
    print(f"commit (check+write):{commit:6.1f} s   {args.rows / commit:8,.0f} rows/s")
    print(f"audit chain sealed:  {seal:6.1f} s (after the commit)")
    print(
        f"result: {run.state}, {run.created_count:,} created, {run.skipped_count:,} skipped, "
        f"{run.error_count:,} errors; {Customer.objects.count():,} customers in the database"
    )
    print(f"TOTAL upload + dry run + commit: {total:.1f} s = {args.rows / total:,.0f} rows/s")
    print(f"CPU of this process (dry run + commit): {cpu:.1f} s; load average now {os.getloadavg()[0]:.1f}")
    return 0 if run.state == "committed" else 1


if __name__ == "__main__":
    sys.exit(main())
