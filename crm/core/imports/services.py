"""Every write of the import framework: upload, options, dry run, commit, presets.

A run is checked (the dry run) and committed by `import_run_execute`, inline for a small
file and from the Celery task for a large one (more rows than IMPORT_BACKGROUND_ROWS). The
commit is all-or-nothing unless the run asks for the valid rows only; it writes one
`import.committed` event naming the file's SHA-256, beside the records' own events.
"""

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.core.imports import engine, readers
from crm.core.imports.models import ImportCheck, ImportPolicy, ImportPreset, ImportRun, ImportState
from crm.core.imports.registry import ERROR, importer_get, mapping_guess

READY_TO_CHECK = (ImportState.UPLOADED, ImportState.CHECKED, ImportState.FAILED)
# PostgreSQL's deadlock and serialization failures: two runs writing the same rows at once
# (e.g. taking the numbers of two years in opposite orders); one of them is told to try again.
CONCURRENCY_FAILURES = {"40P01", "40001"}


class _RollBack(Exception):
    pass


def _importer_for(actor: User, kind: str) -> Any:
    importer = importer_get(kind)
    if importer is None:
        raise DomainError(_("Nothing can be imported as %(kind)s.") % {"kind": kind}, field="kind")
    if not importer.may_use(actor):
        raise DomainError(_("You may not import %(what)s.") % {"what": importer.label}, field="kind")
    return importer


def _run_locked(actor: User, run_id: int) -> ImportRun:
    run = ImportRun.objects.visible_to(actor, "view").select_for_update().filter(pk=run_id).first()
    if run is None or run.created_by_id != actor.pk:
        raise DomainError(_("This import does not exist or you may not change it."))
    return run


@transaction.atomic
def import_run_create(*, actor: User, kind: str, file_name: str, content: bytes) -> ImportRun:
    """Keep an uploaded file as a new run, its columns mapped by their headers."""
    importer = _importer_for(actor, kind)
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(size)s MB.") % {"size": settings.IMPORT_MAX_BYTES // 2**20}, field="file"
        )
    try:
        table = readers.read(content, file_name)
    except readers.FileUnreadable as error:
        raise DomainError(str(error), field="file") from None
    run = ImportRun.objects.create(
        kind=kind,
        created_by=actor,
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        file_format=table.file_format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        mapping=mapping_guess(importer, table.headers, actor),
        total_rows=table.count(),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    audit_record(
        actor=actor,
        action="import.uploaded",
        target=run,
        extra={"kind": kind, "file": run.file_name, "sha256": run.sha256, "rows": run.total_rows},
    )
    return run


@transaction.atomic
def import_run_configure(
    *,
    actor: User,
    run_id: int,
    mapping: dict[str, str],
    policy: str = ImportPolicy.SKIP,
    valid_only: bool = False,
    keep_history: bool = False,
) -> ImportRun:
    """Set the column mapping and the options of a run not yet committed. The run's dry run,
    if it had one, is dropped with what it checked: a commit only ever writes what the dry
    run of the same mapping and options reported."""
    run = _run_locked(actor, run_id)
    if run.state not in READY_TO_CHECK:
        raise DomainError(_("This import is %(state)s; it cannot be changed.") % {"state": run.get_state_display()})
    importer = _importer_for(actor, run.kind)
    columns = {column.name: column for column in importer.columns_for(actor)}
    mapping = {header: name for header, name in mapping.items() if name}
    unknown = [name for name in mapping.values() if name not in columns]
    if unknown or set(mapping) - set(run.headers):
        raise DomainError(_("Map each column to one of the offered fields."), field="mapping")
    if len(set(mapping.values())) < len(mapping):
        raise DomainError(_("Map each field from one column only."), field="mapping")
    missing = [
        str(column.label) for column in columns.values() if column.required and column.name not in mapping.values()
    ]
    if missing:
        raise DomainError(
            _("Map a column to each required field: %(fields)s.") % {"fields": ", ".join(missing)}, field="mapping"
        )
    if policy not in ImportPolicy.values:
        raise DomainError(_("Choose what to do with duplicates."), field="policy")
    if keep_history and not actor.has_perm("imports.import_history"):
        raise DomainError(_("Only an administrator may keep original owners and dates."), field="keep_history")
    run.mapping, run.policy, run.valid_only, run.keep_history = mapping, policy, valid_only, keep_history
    run.state, run.results, run.message = ImportState.UPLOADED, [], ""
    run.created_count = run.updated_count = run.skipped_count = run.error_count = 0
    run.save(
        update_fields=[
            "mapping", "policy", "valid_only", "keep_history", "state", "results", "message",
            "created_count", "updated_count", "skipped_count", "error_count",
        ]
    )  # fmt: skip
    ImportCheck.objects.filter(run=run).delete()
    return run


@transaction.atomic
def import_run_start(*, actor: User, run_id: int, write: bool, valid_only: bool | None = None) -> ImportRun:
    """Mark a run as being checked (or committed) for `import_run_execute` to do the work
    (the command does, with its own progress bar)."""
    if write:
        run, _large = _start(actor, run_id, ImportState.COMMITTING, (ImportState.CHECKED,), valid_only)
    else:
        run, _large = _start(actor, run_id, ImportState.CHECKING, READY_TO_CHECK)
    return run


def _start(
    actor: User, run_id: int, state: str, allowed: tuple, valid_only: bool | None = None
) -> tuple[ImportRun, bool]:
    run = _run_locked(actor, run_id)
    if valid_only is not None:
        run.valid_only = valid_only
    if run.state not in allowed:
        raise DomainError(_("This import is %(state)s.") % {"state": run.get_state_display().lower()})
    _importer_for(actor, run.kind)
    run.state, run.processed_rows, run.message = state, 0, ""
    run.language = translation.get_language() or run.language
    run.save(update_fields=["state", "processed_rows", "message", "language", "valid_only"])
    return run, run.total_rows > settings.IMPORT_BACKGROUND_ROWS


def _queue(run_id: int, write: bool) -> None:
    from crm.core.imports.tasks import import_run_process

    transaction.on_commit(lambda: import_run_process.delay(run_id, write))


@transaction.atomic
def import_run_check(*, actor: User, run_id: int, background: bool | None = None) -> ImportRun:
    """The dry run: check every row and say what the commit would do; nothing is written."""
    run, large = _start(actor, run_id, ImportState.CHECKING, READY_TO_CHECK)
    if large if background is None else background:
        _queue(run.pk, False)
        return run
    return import_run_execute(run_id=run.pk, write=False)


@transaction.atomic
def import_run_commit(
    *, actor: User, run_id: int, valid_only: bool | None = None, background: bool | None = None
) -> ImportRun:
    """Write the checked rows: all or nothing, or only the valid ones (`valid_only`)."""
    run, large = _start(actor, run_id, ImportState.COMMITTING, (ImportState.CHECKED,), valid_only)
    if large if background is None else background:
        _queue(run.pk, True)
        return run
    return import_run_execute(run_id=run.pk, write=True)


@transaction.atomic
def import_run_execute(*, run_id: int, write: bool, progress: Callable[[int], None] | None = None) -> ImportRun:
    """Do the work of a dry run or a commit that was started (CHECKING or COMMITTING): the
    rows in a savepoint rolled back when the commit may not be partial and a row failed.
    The dry run keeps what it checked (ImportCheck) for the commit, which takes it.

    A deadlock with another run's writes fails the run (nothing written), as a bad file does.

    One execution of a run at a time (an advisory lock, not the row's: the progress is
    written on the row from another connection), so a task delivered twice (`acks_late`)
    finds the run done and writes nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('crm.import_run'), %s)", [run_id])
    run = ImportRun.objects.select_related("created_by").get(pk=run_id)
    expected = ImportState.COMMITTING if write else ImportState.CHECKING
    if run.state != expected:
        raise DomainError(_("This import is %(state)s.") % {"state": run.get_state_display().lower()})
    rolled_back = False
    checked: dict[int, dict[str, Any]] = {}
    if write and (check := ImportCheck.objects.filter(run=run).first()) is not None:
        checked = {int(line): values for line, values in check.rows.items()}
    ImportCheck.objects.filter(run=run).delete()
    with translation.override(run.language):
        try:
            with transaction.atomic():
                results = engine.run_rows(run, write=write, checked=checked, progress=progress)
                counts = engine.counts_of(results)
                if write and counts[ERROR] and not run.valid_only:
                    raise _RollBack
        except _RollBack:
            rolled_back = True
        except DomainError as error:
            results, counts, rolled_back = [], engine.counts_of([]), True
            run.message = error.message
        except DatabaseError as error:
            if getattr(error.__cause__, "pgcode", None) not in CONCURRENCY_FAILURES:
                raise
            results, counts, rolled_back = [], engine.counts_of([]), True
            run.message = _(
                "Nothing was imported: another import was writing the same records at the same moment. "
                "Check the file again, then commit."
            )
        run.results = results
        run.processed_rows = len(results)
        run.created_count, run.updated_count = counts["create"], counts["update"]
        run.skipped_count, run.error_count = counts["skip"], counts[ERROR]
        run.finished_at = timezone.now()
        if not write:
            run.state = ImportState.FAILED if run.message else ImportState.CHECKED
        elif rolled_back:
            run.state = ImportState.FAILED
            run.message = run.message or _(
                "Nothing was imported: %(count)s rows have errors. Fix them, or commit only the valid rows."
            ) % {"count": counts[ERROR]}
        else:
            run.state, run.committed = ImportState.COMMITTED, True
        run.save()
        if not write and run.state == ImportState.CHECKED:
            ImportCheck.objects.create(run=run, rows=checked)
        if write and not rolled_back:
            audit_record(
                actor=run.created_by,
                action="import.committed",
                target=run,
                extra={
                    "kind": run.kind,
                    "file": run.file_name,
                    "sha256": run.sha256,
                    "created": run.created_count,
                    "updated": run.updated_count,
                    "skipped": run.skipped_count,
                    "errors": run.error_count,
                    "valid_only": run.valid_only,
                    "kept_owners_and_dates": run.keep_history,
                },
            )
    return run


@transaction.atomic
def import_preset_save(*, actor: User, kind: str, name: str, mapping: dict[str, str]) -> ImportPreset:
    """Save a column mapping under a name for the next file of the same kind (same name: replaced)."""
    _importer_for(actor, kind)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Name the preset."), field="preset_name")
    preset, created = ImportPreset.objects.select_for_update().get_or_create(
        kind=kind, name=name[:100], defaults={"mapping": mapping, "created_by": actor}
    )
    if not created:
        preset.mapping, preset.updated_at = mapping, timezone.now()
        preset.save(update_fields=["mapping", "updated_at"])
    audit_record(
        actor=actor,
        action="import.preset_saved",
        target=preset,
        changes={"mapping": [None, mapping]},
        extra={"kind": kind},
    )
    return preset


@transaction.atomic
def import_preset_delete(*, actor: User, preset_id: int) -> None:
    if not actor.has_perm("imports.delete_importpreset"):
        raise DomainError(_("You may not delete import presets."))
    preset = ImportPreset.objects.select_for_update().filter(pk=preset_id).first()
    if preset is None:
        raise DomainError(_("This preset does not exist."))
    audit_record(
        actor=actor, action="import.preset_deleted", target=preset, changes={"mapping": [preset.mapping, None]}
    )
    preset.delete()
