"""Time contract signing and verification next to the raw RSA-3072 PSS operations.

    .venv/bin/python bench/signing.py [--sign N] [--contracts N] [--raw N]

The scratch database `crm_bench_signing` is dropped, created again on the server
`DATABASE_URL` points at (default: postgres@127.0.0.1:5432) and migrated, so every run
starts empty. The in-memory signing backend holds a real 3072-bit RSA key. Printed, from
one run:

(a) signatures per second through `contract_sign_company` on N approved contracts: the
    row lock, the status change, the statement, the signature (and its check), the
    signature row and two audit events, each in its own transaction;
(b) the raw cryptography RSA-3072 PSS sign rate in the same process;
(c) `verify_signatures` throughput over the signatures of M signed contracts;
(d) the raw cryptography RSA-3072 PSS verify rate.

Figures only: nothing here fails because something is slow.
"""

import argparse
import datetime
import io
import statistics
import sys
import time
from decimal import Decimal
from urllib.parse import urlsplit

from common import bench_database_url, format_table, setup_django

BENCH_DATABASE = "crm_bench_signing"
PASSWORD = "bench-signing-password"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sign", type=int, default=200, help="contracts signed through the service (default 200)")
    parser.add_argument(
        "--contracts",
        type=int,
        default=2_000,
        help="contracts signed through the services for verify_signatures to check (default 2,000)",
    )
    parser.add_argument("--raw", type=int, default=1000, help="raw sign operations timed (verify: 5x as many)")
    return parser.parse_args()


def setup_django_for_signing(database_url: str):
    setup_django(database_url, SIGNING_BACKEND="memory")
    from django.conf import settings

    # DEBUG=1 only lets the settings load without production secrets. Off again, so the
    # database cursor does not record every query, and mail stays in memory.
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The service checks the signatory's password on every signature. With Django's
    # PBKDF2 that alone costs more than the signing, so it is timed on its own line.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def rate(count, seconds):
    return count / seconds if seconds else float("inf")


# -- setup ---------------------------------------------------------------------------------


def make_people():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crm.core.roles import Role

    def user(username, role):
        person = get_user_model().objects.create_user(
            username, f"{username}@bench.example", PASSWORD, first_name=username.title(), last_name="Bench"
        )
        person.groups.add(Group.objects.get(name=role.value))
        return get_user_model().objects.get(pk=person.pk)  # fresh, without cached permissions

    return {
        "rep": user("bench_rep", Role.SALES_REP),
        "manager": user("bench_manager", Role.SALES_MANAGER),
        "signatory": user("bench_signatory", Role.SIGNATORY),
    }


def make_customers(rep, count=20):
    from customers.services import customer_create

    return [
        customer_create(actor=rep, name=f"Bench Customer {index:02d} Ltd", email=f"buyer{index}@bench.example")
        for index in range(count)
    ]


TERMS = {
    "body": "1. Scope\n2. Price\n3. Confidentiality\n4. Governing law\n" * 20,
    "currency": "CNY",
    "start_date": datetime.date(2026, 1, 1),
    "end_date": datetime.date(2026, 12, 31),
    "payment_terms_days": 30,
}


def approved_through_services(people, customers, count):
    """Drafted, submitted and approved through the services, as users do."""
    from contracts import services

    ids = []
    for index in range(count):
        contract = services.contract_create(
            actor=people["rep"],
            customer_id=customers[index % len(customers)].pk,
            title=f"Service-signed supply {index}",
            amount=Decimal("50000.00") + index,
            **TERMS,
        )
        services.contract_submit(actor=people["rep"], contract_id=contract.pk)
        services.contract_approve(actor=people["manager"], contract_id=contract.pk, comment="OK")
        ids.append(contract.pk)
    return ids


def signed_through_services(people, customers, count):
    """`count` contracts inserted as approved with bulk_create (the approval steps are not
    what is measured), then signed by both parties through the signing services, as in the
    app: `contract_sign_company`, `signing_link_send` and `contract_sign_customer`."""
    from contracts import signatures
    from contracts.choices import ContractStatus
    from contracts.models import Contract

    rep, signatory = people["rep"], people["signatory"]
    started = time.perf_counter()
    contracts = Contract.objects.bulk_create(
        [
            Contract(
                number=f"CB-2026-{index:06d}",
                customer=customers[index % len(customers)],
                title=f"Bulk supply {index}",
                amount=Decimal("1000.00") + index,
                owner=rep,
                status=ContractStatus.APPROVED,
                approval_round=1,
                **TERMS,
            )
            for index in range(count)
        ],
        batch_size=2000,
    )
    inserted = time.perf_counter() - started

    started = time.perf_counter()
    made = 0
    for number, contract in enumerate(contracts, 1):
        signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)
        _link, url = signatures.signing_link_send(
            actor=rep, contract_id=contract.pk, email=contract.customer.email, send_email=False
        )
        signatures.contract_sign_customer(token=url.rstrip("/").rsplit("/", 1)[-1], full_name="Li Wei", accepted=True)
        made += 2
        if number % 500 == 0 or number == count:
            print(f"\r  signed {number:,} / {count:,} contracts", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return made, inserted, time.perf_counter() - started


# -- measurements ------------------------------------------------------------------------


def time_service_signing(people, ids):
    from contracts.signatures import contract_sign_company

    durations = []
    started = time.perf_counter()
    for contract_id in ids:
        one = time.perf_counter()
        contract_sign_company(actor=people["signatory"], contract_id=contract_id, password=PASSWORD)
        durations.append(time.perf_counter() - one)
    return time.perf_counter() - started, durations


def sample_statement() -> bytes:
    from contracts.models import ContractSignature

    return bytes(ContractSignature.objects.order_by("pk").first().statement)


def time_raw_sign(private_key, data, count):
    from contracts.signing.base import sign_with_private_key

    started = time.perf_counter()
    for _ in range(count):
        signature = sign_with_private_key(private_key, data)
    return time.perf_counter() - started, signature


def time_raw_verify(public_key, data, signature, count):
    from cryptography.hazmat.primitives import hashes

    from contracts.signing.base import pss_padding

    started = time.perf_counter()
    for _ in range(count):
        public_key.verify(signature, data, pss_padding(), hashes.SHA256())
    return time.perf_counter() - started


def time_verify_command():
    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    call_command("verify_signatures", stdout=out, stderr=io.StringIO(), verbosity=0)
    return time.perf_counter() - started, out.getvalue().strip()


def verification_breakdown():
    """Where verify_signatures spends its time: reading, rebuilding statements, checking signatures."""
    from contracts.models import ContractSignature, SigningKey
    from contracts.signing.base import load_public_key, verify
    from contracts.signing.statement import statement_for_signature

    # Read as the command reads: keyset chunks of 1000, the keys once.
    queryset = ContractSignature.objects.select_related("contract", "contract__customer")
    started = time.perf_counter()
    keys = {key.pk: key for key in SigningKey.objects.all()}
    signatures, last = [], 0
    while chunk := list(queryset.filter(pk__gt=last).order_by("pk")[:1000]):
        for signature in chunk:
            signature.key = keys[signature.key_id]
        signatures += chunk
        last = chunk[-1].pk
    read = time.perf_counter() - started
    started = time.perf_counter()
    for signature in signatures:
        statement_for_signature(signature)
    rebuilt = time.perf_counter() - started
    started = time.perf_counter()
    for signature in signatures:
        load_public_key(signature.key.public_key_pem)
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    for signature in signatures:
        verify(signature.key.public_key_pem, bytes(signature.statement), bytes(signature.signature))
    verified = time.perf_counter() - started
    return len(signatures), {"read": read, "rebuild": rebuilt, "parse": parsed, "verify": verified}


def time_password_check():
    """One check_password with Django's default (PBKDF2) hasher, as production signs."""
    from django.contrib.auth.hashers import check_password, make_password
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        encoded = make_password(PASSWORD)
        started = time.perf_counter()
        runs = 3
        for _ in range(runs):
            check_password(PASSWORD, encoded)
        return (time.perf_counter() - started) / runs


# -- report --------------------------------------------------------------------------------


def main():
    args = parse_args()
    total_started = time.perf_counter()
    database_url = bench_database_url(BENCH_DATABASE, reseed=True)  # every run starts empty
    setup_django_for_signing(database_url)

    import cryptography
    from django.core.management import call_command
    from django.db import connection, transaction

    from contracts.signing.base import KEY_SIZE, generate_private_key
    from contracts.signing.keys import signing_key_for_signing

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]

    # The approval rules are the ones the migrations install (one level below 1,000,000).
    people = make_people()
    customers = make_customers(people["rep"])

    # (a) through the service. The first signature of the process registers the in-memory
    # key (and generates it): done once before timing.
    with transaction.atomic():
        backend, key = signing_key_for_signing()
    started = time.perf_counter()
    ids = approved_through_services(people, customers, args.sign + 1)
    prepared = time.perf_counter() - started
    time_service_signing(people, ids[:1])  # warm-up
    service_seconds, durations = time_service_signing(people, ids[1:])

    # (b) raw sign, same process, a statement-sized payload, a fresh RSA-3072 key.
    private_key = generate_private_key(KEY_SIZE)
    data = sample_statement()
    raw_sign_seconds, raw_signature = time_raw_sign(private_key, data, args.raw)

    # (c) verify_signatures over bulk-made signed contracts.
    signatures_made, inserted, signed_seconds = signed_through_services(people, customers, args.contracts)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    verify_seconds, verify_output = time_verify_command()
    checked, breakdown = verification_breakdown()

    # (d) raw verify.
    raw_verify_count = args.raw * 5
    raw_verify_seconds = time_raw_verify(private_key.public_key(), data, raw_signature, raw_verify_count)
    password_seconds = time_password_check()

    from contracts.models import ContractSignature

    all_signatures = ContractSignature.objects.count()
    signed_contracts = ContractSignature.objects.values("contract").distinct().count()
    service_rate = rate(args.sign, service_seconds)
    raw_sign_rate = rate(args.raw, raw_sign_seconds)
    verify_rate = rate(all_signatures, verify_seconds)
    raw_verify_rate = rate(raw_verify_count, raw_verify_seconds)

    print(f"Database: {BENCH_DATABASE} on {urlsplit(database_url).hostname} (PostgreSQL {server_version})")
    print(
        f"Python {sys.version.split()[0]}, cryptography {cryptography.__version__}, "
        f"backend {type(backend).__name__} with an RSA-{backend.public_key().key_size} key {key.key_id[:23]}…"
    )
    print(
        f"Setup: migrate {migrated:.1f} s; {args.sign + 1} contracts approved through the services in {prepared:.1f} s"
    )
    print(
        f"Setup for (c): {args.contracts:,} approved contracts bulk-inserted in {inserted:.1f} s; "
        f"{signatures_made:,} signatures (company + customer) made through the signing services "
        f"in {signed_seconds:.1f} s"
    )
    print()
    rows = [
        (
            "(a) contract_sign_company, DB write included",
            f"{service_rate:,.1f}",
            f"{statistics.median(durations) * 1000:.2f}",
            f"{args.sign} signatures, one transaction each",
        ),
        (
            "(b) raw cryptography RSA-3072 PSS sign",
            f"{raw_sign_rate:,.1f}",
            f"{raw_sign_seconds / args.raw * 1000:.2f}",
            f"{args.raw} signatures of a {len(data)}-byte statement",
        ),
        (
            "(c) verify_signatures command",
            f"{verify_rate:,.1f}",
            f"{verify_seconds / all_signatures * 1000:.2f}",
            f"{all_signatures:,} signatures of {signed_contracts:,} contracts in {verify_seconds:.1f} s",
        ),
        (
            "(d) raw cryptography RSA-3072 PSS verify",
            f"{raw_verify_rate:,.1f}",
            f"{raw_verify_seconds / raw_verify_count * 1000:.3f}",
            f"{raw_verify_count} verifications",
        ),
    ]
    print(format_table(("Operation", "per second", "ms each", "Measured over"), rows, right={1, 2}))
    print()
    print(f"(a) is {service_rate / raw_sign_rate:.0%} of (b); (c) is {verify_rate / raw_verify_rate:.0%} of (d).")
    print(
        f"(a) uses the MD5 password hasher, as the tests do; with Django's default PBKDF2 each signature "
        f"also spends {password_seconds * 1000:.0f} ms checking the signatory's password."
    )
    print(
        f"Where (c) goes, per signature over {checked:,}: reading {breakdown['read'] / checked * 1e6:.0f} µs, "
        f"rebuilding the statement {breakdown['rebuild'] / checked * 1e6:.0f} µs, "
        f"verify() {breakdown['verify'] / checked * 1e6:.0f} µs "
        f"(of which parsing the PEM public key {breakdown['parse'] / checked * 1e6:.0f} µs)."
    )
    print(f"verify_signatures said: {verify_output}")
    print(f"Total run time {time.perf_counter() - total_started:.0f} s.")


if __name__ == "__main__":
    main()
