"""The base every manage.py command of the CRM subclasses."""

import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from crm.core.context import acting_from
from crm.core.exceptions import DomainError


class CrmCommand(BaseCommand):
    """Runs as source "command" for the audit trail; a domain refusal exits non-zero
    with its one-line reason. `supports_dry_run` adds `--dry-run`."""

    supports_dry_run = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if self.supports_dry_run:
            parser.add_argument("--dry-run", action="store_true", help="Show what would change; change nothing.")
        return parser

    def execute(self, *args, **options):
        with acting_from("command"):
            try:
                return super().execute(*args, **options)
            except DomainError as error:
                raise CommandError(error.message) from error
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error

    def progress(self, total, description):
        """A progress bar on stderr, quiet when stderr is not a terminal or verbosity is 0."""
        return tqdm(
            total=total,
            desc=description,
            unit=" rows",
            file=sys.stderr,
            disable=self.verbosity == 0,
            mininterval=0.5,
        )

    def actor_from(self, username):
        """The user a command acts as (`--as USERNAME`)."""
        try:
            return get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user named {username!r}.") from None

    def handle(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        return self.run(**options)

    def run(self, **options):
        raise NotImplementedError
