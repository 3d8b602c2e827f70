"""A large file is checked and committed by a real Celery worker, with its progress recorded."""

import pytest
from django.urls import reverse

from crm.core.imports import services
from crm.core.imports.models import ImportRun, ImportState
from crm.core.tests.waiting import wait_until
from customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_large_file_runs_in_the_background_with_progress(task_worker, rep, client, settings):
    settings.IMPORT_BACKGROUND_ROWS = 100
    lines = ["客户名称,邮箱"] + [f"Worker Co {n},w{n}@worker.example.cn" for n in range(300)] + ["Worker Co 7,dup@x.cn"]
    content = "\n".join(lines).encode("gb18030")
    run = services.import_run_create(actor=rep, kind="customers", file_name="big.csv", content=content)

    run = services.import_run_check(actor=rep, run_id=run.pk)
    assert run.state == ImportState.CHECKING  # queued, not done inline
    client.force_login(rep)
    progress = client.get(reverse("imports:run_progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert progress.status_code == 200 and b'role="progressbar"' in progress.content
    wait_until(lambda: ImportRun.objects.get(pk=run.pk).state == ImportState.CHECKED, timeout=60)
    run.refresh_from_db()
    assert (run.processed_rows, run.created_count, run.skipped_count) == (301, 300, 1)
    assert run.results[-1] == [302, "skip", "The same name as row 9 of this file."]

    services.import_run_commit(actor=rep, run_id=run.pk)
    wait_until(lambda: ImportRun.objects.get(pk=run.pk).state == ImportState.COMMITTED, timeout=60)
    assert Customer.objects.filter(name__startswith="Worker Co").count() == 300
    done = client.get(reverse("imports:run_progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
