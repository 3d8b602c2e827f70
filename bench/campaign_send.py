"""The send rate of a campaign through the real queue and a real Celery worker.

    .venv/bin/python bench/campaign_send.py [--contacts N] [--rate PER_MINUTE] [--backend locmem|file] [--reseed]

The scratch database `crm_bench_campaigns` is created on the server `DATABASE_URL` points at
(default: postgres@127.0.0.1:5432) and migrated; N customers of one rep, each with one
contact who agreed to marketing mail, are bulk-loaded (COPY-free `bulk_create`, which
bypasses the services: no audit events for the seed). A segment and a campaign are made
through the services, a sales manager schedules it for now, and one Celery worker (solo
pool, in a thread of this process, on Redis at CELERY_BROKER_URL or 127.0.0.1:6379) does
everything else: starting it, handing the batches at the campaign's pace, rendering and
sending each mail (Django's locmem or file e-mail backend), recording each outcome, and
finishing the campaign.

Printed: recipients, seconds from scheduling to "sent", messages per second, the
campaign's pace ceiling, and the mail the backend received. Figures only.
"""

import argparse
import os
import sys
import tempfile
import threading
import time

from common import bench_database_url, setup_django

BENCH_DATABASE = "crm_bench_campaigns"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000, help="contacts to mail (default 2,000)")
    parser.add_argument("--rate", type=int, default=60_000, help="the campaign's messages per minute (default 60,000)")
    parser.add_argument(
        "--backend", choices=["locmem", "file"], default="locmem", help="e-mail backend (default locmem)"
    )
    parser.add_argument("--reseed", action="store_true", help="drop the scratch database first")
    return parser.parse_args()


def main():
    args = parse_args()
    mail_dir = tempfile.mkdtemp(prefix="crm-bench-mail-")
    backend = {
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
    }[args.backend]
    setup_django(
        bench_database_url(BENCH_DATABASE, reseed=True),  # each run starts from an empty database
        EMAIL_BACKEND=backend,
        EMAIL_FILE_PATH=mail_dir,
        CELERY_BROKER_URL=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        CELERY_QUEUE=f"crm-bench-campaigns-{os.getpid()}",
        MARKETING_SEND_RATE_CEILING=str(max(args.rate, 60_000)),
    )
    from celery.contrib.testing.worker import start_worker
    from django.core import mail
    from django.core.management import call_command

    from crm.celery import app
    from crm.core.roles import Role
    from customers.models import Contact, Customer
    from marketing import services
    from marketing.choices import CampaignStatus
    from marketing.models import Campaign, Recipient

    print(f"Migrating {BENCH_DATABASE} …", file=sys.stderr)
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    users = get_user_model()
    rep = users.objects.create_user("bench_rep", "rep@bench.example.com", "x")
    rep.groups.add(Group.objects.get(name=Role.SALES_REP.value))
    manager = users.objects.create_user("bench_manager", "manager@bench.example.com", "x")
    manager.groups.add(Group.objects.get(name=Role.SALES_MANAGER.value))
    print(f"Seeding {args.contacts:,} customers with one consenting contact each …", file=sys.stderr)
    Customer.objects.bulk_create(
        [Customer(name=f"Bench Customer {n}", owner=rep, status="active") for n in range(args.contacts)],
        batch_size=5000,
    )
    Contact.objects.bulk_create(
        [
            Contact(customer=customer, name=f"Reader {n}", email=f"reader{n}@bench.example.com", marketing_consent=True)
            for n, customer in enumerate(Customer.objects.filter(owner=rep).order_by("pk"))
        ],
        batch_size=5000,
    )
    segment = services.segment_create(actor=rep, name="Bench segment", statuses=["active"])
    campaign = services.campaign_create(
        actor=rep,
        segment=segment,
        name="Bench campaign",
        language="en",
        subject_en="News for {{ customer.name }}",
        body_en="Dear {{ contact.name }},\n\nour spring teas: https://shop.example.com/spring\n\n{{ sender.name }}",
        rate_per_minute=args.rate,
    )
    mail.outbox = []
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        started = time.perf_counter()
        services.campaign_schedule(actor=manager, campaign_id=campaign.pk)
        while Campaign.objects.get(pk=campaign.pk).status != CampaignStatus.SENT:
            time.sleep(0.2)
            if time.perf_counter() - started > 3600:
                sys.exit("The campaign did not finish within an hour.")
        seconds = time.perf_counter() - started
    sent = Recipient.objects.filter(campaign=campaign, status="sent").count()
    received = len(mail.outbox) if args.backend == "locmem" else len(os.listdir(mail_dir))
    print(f"threads alive: {threading.active_count()}", file=sys.stderr)
    print(f"backend          {args.backend}")
    print(f"recipients       {sent:,} sent of {args.contacts:,}")
    print(f"pace ceiling     {args.rate:,} per minute ({args.rate / 60:,.0f}/s)")
    print(f"schedule → sent  {seconds:,.1f} s")
    print(f"send rate        {sent / seconds:,.1f} messages/s")
    print(f"mail received    {received:,}" + (" files" if args.backend == "file" else " messages"))


if __name__ == "__main__":
    main()
