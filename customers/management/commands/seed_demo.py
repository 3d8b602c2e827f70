"""`manage.py seed_demo`: the demo users, a reproducible customer base and the lifecycle.

The customers come from customers/demo.py (bulk-loaded, the same `--seed` giving the same
data); contracts, signatures and orders from each later app's `demo.demo_step`, through
the services.
"""

import random
import time

from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.core.commands import CrmCommand
from crm.core.demo import DEMO_USERS, demo_steps, demo_user, demo_users_ensure
from crm.core.roles import Role
from customers.demo import MAX_INDEX, DemoData, demo_customers_load, demo_customers_tidy
from customers.models import Customer

__all__ = ["Command", "DemoData"]


class Command(CrmCommand):
    help = (
        "Create the demo users (one or more per role, password in crm/core/demo.py) and a realistic, "
        "reproducible set of customers with contacts and timeline entries."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=600,
            help="How many customers (default 600: enough order history for the insight models to learn from).",
        )
        parser.add_argument("--contacts-per-customer", type=int, default=2, help="Contacts per customer (default 2).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: same seed, same data (default 42).")
        parser.add_argument(
            "--contracts",
            type=int,
            default=300,
            help="Contracts through the whole workflow, with orders against the signed ones (default 300; 0: none).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Add no customers when any exist (the demo users are still ensured).",
        )

    def run(self, *, customers, contacts_per_customer, seed, if_empty, contracts, **options):
        if customers < 0:
            raise CommandError("--customers must be 0 or more.")
        if not 0 <= contacts_per_customer <= 50:
            raise CommandError("--contacts-per-customer must be between 0 and 50.")
        if contracts < 0:
            raise CommandError("--contracts must be 0 or more.")
        started = time.perf_counter()
        users = demo_users_ensure()
        existing = Customer.objects.count()
        if if_empty and existing:
            self.stdout.write(f"Demo users ready; {existing:,} customers already exist, so no demo data was added.")
            return
        if not customers:
            self.stdout.write("Demo users ready; no customers were asked for.")
            return
        if existing + customers > MAX_INDEX:
            raise CommandError(f"At most {MAX_INDEX:,} demo customers can exist.")
        data = DemoData(
            seed=seed,
            owner_ids=[users[spec.username].pk for spec in DEMO_USERS if spec.role == Role.SALES_REP],
            contacts_per_customer=contacts_per_customer,
            now=timezone.now(),
            base=existing,
        )
        admin = users[demo_user(Role.ADMIN).username]
        try:
            with self.progress(customers, "Seeding demo customers") as bar:
                counts = demo_customers_load(data=data, count=customers, admin=admin, seed=seed, progress=bar.update)
        except IntegrityError as error:
            raise CommandError(
                "A generated customer clashes with an existing one; seed an empty database "
                f"or use --if-empty ({str(error).splitlines()[0]})."
            ) from error
        demo_customers_tidy()
        if contracts:
            self.later_apps(users=users, seed=seed, contracts=contracts)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {counts['customers']:,} customers, {counts['contacts']:,} contacts and "
                f"{counts['interactions']:,} timeline entries (seed {seed}) in {elapsed:.1f} s; "
                f"{len(DEMO_USERS)} demo users ready."
            )
        )

    def later_apps(self, *, users, seed, contracts):
        """The rest of the lifecycle (contracts, signatures, orders …) through each app's own
        `demo.demo_step`, which goes through the services."""
        for label, step in demo_steps():
            with transaction.atomic():
                counts = step(rng=random.Random(seed), users=users, contracts=contracts)
            summary = ", ".join(f"{key}: {value}" for key, value in counts.items() if not isinstance(value, dict))
            self.stdout.write(f"{label}: {summary}")
