from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from crm.core.commands import CrmCommand
from crm.core.imports import services
from crm.core.imports.models import ImportPolicy, ImportState
from crm.core.imports.registry import importers
from crm.core.imports.selectors import import_presets


class Command(CrmCommand):
    help = (
        "Import customers, contacts, products, opportunities or past orders from a CSV or XLSX file: "
        "a dry run, then (without --dry-run) the commit, all or nothing unless --valid-only."
    )
    supports_dry_run = True

    def add_arguments(self, parser):
        parser.add_argument("kind", help="What the file holds: " + ", ".join(sorted(importers())))
        parser.add_argument("file", help="A .csv or .xlsx file.")
        parser.add_argument("--mapping", metavar="PRESET", help="The name of a saved column mapping.")
        parser.add_argument("--policy", choices=ImportPolicy.values, default=ImportPolicy.SKIP)
        parser.add_argument("--valid-only", action="store_true", help="Commit the valid rows, leave out the others.")
        parser.add_argument(
            "--keep-owner-and-dates", action="store_true", help="Keep the file's owners and creation dates (history)."
        )
        parser.add_argument("--as", dest="username", help="The user who imports (default: the first superuser).")

    def run(self, **options):
        kind, path = options["kind"], Path(options["file"])
        if kind not in importers():
            raise CommandError(f"Unknown kind {kind!r}; choose one of {', '.join(sorted(importers()))}.")
        if not path.is_file():
            raise CommandError(f"No file {str(path)!r}.")
        if options["username"]:
            actor = self.actor_from(options["username"])
        else:
            actor = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if actor is None:
                raise CommandError("No active superuser to import as; name a user with --as.")
        run = services.import_run_create(actor=actor, kind=kind, file_name=path.name, content=path.read_bytes())
        mapping = run.mapping
        if options["mapping"]:
            preset = import_presets(kind=kind).filter(name=options["mapping"]).first()
            if preset is None:
                raise CommandError(f"No {kind} mapping preset named {options['mapping']!r}.")
            mapping = preset.mapping
        services.import_run_configure(
            actor=actor,
            run_id=run.pk,
            mapping=mapping,
            policy=options["policy"],
            valid_only=options["valid_only"],
            keep_history=options["keep_owner_and_dates"],
        )
        self.stdout.write(
            f"{path.name}: {run.total_rows} rows, columns " + ", ".join(f"{h} -> {f}" for h, f in mapping.items())
        )
        run = self._pass(run.pk, actor, write=False)
        if options["dry_run"]:
            self._summary(run, "Dry run")
            if run.error_count:
                raise CommandError(f"{run.error_count} rows have errors (first: {self._first_error(run)}).")
            return
        if run.error_count and not options["valid_only"]:
            self._summary(run, "Dry run")
            raise CommandError(
                f"Nothing imported: {run.error_count} rows have errors (first: {self._first_error(run)}); "
                "fix them or use --valid-only."
            )
        run = self._pass(run.pk, actor, write=True)
        self._summary(run, "Imported" if run.state == ImportState.COMMITTED else "Failed")
        if run.state != ImportState.COMMITTED:
            raise CommandError(run.message or "The import failed.")

    def _pass(self, run_id, actor, *, write):
        run = services.import_run_start(actor=actor, run_id=run_id, write=write)
        bar = self.progress(run.total_rows, "Importing" if write else "Checking")

        def progress(done):
            bar.update(done - bar.n)

        try:
            return services.import_run_execute(run_id=run_id, write=write, progress=progress)
        finally:
            bar.close()

    def _first_error(self, run):
        for line, action, message in run.results:
            if action == "error":
                return f"row {line}: {message}"
        return run.message

    def _summary(self, run, title):
        self.stdout.write(
            f"{title}: {run.created_count} created, {run.updated_count} updated, "
            f"{run.skipped_count} skipped, {run.error_count} errors (import #{run.pk}, sha256 {run.sha256})."
        )
