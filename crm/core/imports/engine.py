"""Running one import: the file's rows, mapped, in batches through the kind's importer.

`run_rows` is the one loop behind the dry run and the commit, in the browser, in the
background task and in the command. It works inside the caller's transaction; the
services (crm.core.imports.services) own the transaction, the state and the audit event.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.bulk import batches
from crm.core.exceptions import DomainError
from crm.core.imports import readers, values
from crm.core.imports.models import ImportRun
from crm.core.imports.registry import CREATE, ERROR, SKIP, UPDATE, ImportContext, Row, importer_get
from crm.core.transactions import in_callers_transaction

BATCH_SIZE = 2000
ACTION_LABELS = {
    CREATE: gettext_lazy("create"),
    UPDATE: gettext_lazy("update"),
    SKIP: gettext_lazy("skip"),
    ERROR: gettext_lazy("error"),
}


def table_of(run: ImportRun) -> readers.Table:
    try:
        return readers.read(bytes(run.content), run.file_name)
    except readers.FileUnreadable as error:
        raise DomainError(str(error), field="file") from None


@in_callers_transaction
def run_rows(
    run: ImportRun,
    *,
    write: bool,
    checked: dict[int, dict[str, Any]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[list]:
    """Check every row (and, with `write`, create or update what it says); returns
    [[line, action, message], ...]. Without `run.valid_only`, writing stops at the first
    bad row (the rest are still checked): the caller rolls the whole run back.

    `checked` is the importer's `ImportContext.checked`: the dry run's, filled in, is
    what its commit is given back."""
    importer = importer_get(run.kind)
    if importer is None:
        raise DomainError(_("Nothing can be imported as %(kind)s.") % {"kind": run.kind})
    table = table_of(run)
    context = ImportContext(
        actor=run.created_by,
        policy=run.policy,
        write=write,
        keep_history=run.keep_history,
        sha256=run.sha256,
        checked=checked if checked is not None else {},
    )
    results: list[list] = []
    done = 0
    for batch in _batches(table.records(run.mapping), importer.group_field):
        rows = [Row(line, values) for line, values in batch]
        if context.write:
            with transaction.atomic():
                importer.process(rows, context)
        else:
            importer.process(rows, context)
        for row in rows:
            results.append([row.line, row.action or SKIP, row.message])
            if row.action == ERROR and not run.valid_only:
                context.write = False
        done += len(rows)
        if progress:
            progress(done)
    results.sort(key=lambda result: result[0])  # grouped rows came out of the file's order
    return results


Record = tuple[int, dict[str, Any]]


def _batches(records: Iterable[Record], group_field: str) -> Iterator[list[Record]]:
    """BATCH_SIZE records at a time; with a `group_field`, the records of one group (the
    same value in it) in one batch, in the order each group first appears in the file."""
    if not group_field:
        yield from batches(records, BATCH_SIZE)
        return
    groups: dict[str, list[Record]] = {}
    for line, row in records:
        groups.setdefault(values.text(row.get(group_field)), []).append((line, row))
    batch: list[Record] = []
    for group in groups.values():
        if batch and len(batch) + len(group) > BATCH_SIZE:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def counts_of(results: list[list]) -> Counter:
    return Counter(action for _line, action, _message in results)


def outcome_text(action: str, message: str) -> str:
    label = str(ACTION_LABELS.get(action, action))
    return f"{label}: {message}" if message else label


def result_file(run: ImportRun) -> bytes:
    """The uploaded file with the outcome of each row in one more column."""
    table = table_of(run)
    outcomes = {line: outcome_text(action, message) for line, action, message in run.results}
    return readers.result_file(bytes(run.content), table, outcomes, _("Import result"))


def progress_writer(run_id: int, every: int = BATCH_SIZE) -> Callable[[int], None]:
    """A progress callback that records the rows done on the run from another connection
    (a thread of its own), so the page and the command see it while the run's own
    transaction is still open."""

    def record(done: int) -> None:
        def update() -> None:
            try:
                ImportRun.objects.filter(pk=run_id).update(processed_rows=done)
            finally:
                connection.close()

        thread = threading.Thread(target=update, daemon=True)
        thread.start()
        thread.join(timeout=5)

    return record
