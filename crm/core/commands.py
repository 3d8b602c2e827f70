"""The base every manage.py command of the CRM subclasses."""

import os
import sys
from contextlib import nullcontext

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from tqdm import tqdm

from crm.core.context import acting_from
from crm.core.exceptions import DomainError


def language_from_environment() -> str | None:
    """The operator's language for command output, read like gettext does (LANGUAGE,
    LC_ALL, LC_MESSAGES, LANG: `zh_CN.UTF-8` gives Simplified Chinese); None for C/POSIX
    or a language we do not speak, which leaves LANGUAGE_CODE."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(":")[0].split(".")[0].strip()
        if value and value not in ("C", "POSIX"):
            try:
                return translation.get_supported_language_variant(value.replace("_", "-").lower())
            except LookupError:
                return None
    return None


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
        language = language_from_environment()
        with acting_from("command"), translation.override(language) if language else nullcontext():
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
