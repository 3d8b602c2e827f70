"""`train_models` and its nightly job: each run prints the figures against the baseline and
is recorded; with too little history it exits non-zero with a one-line reason."""

import pytest
from django.core.management import CommandError, call_command

from crm.core.jobs import job_run, jobs
from crm.insight.choices import ModelKind, ModelStatus
from crm.insight.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_train_models_trains_one_kind_and_prints_its_figures(buyers, capsys):
    call_command("train_models", "--kind", "segments", "--seed", "4")

    out = capsys.readouterr().out
    assert "Customer segments v1" in out and "silhouette" in out and "beats its baseline" in out
    version = ModelVersion.objects.get(kind=ModelKind.SEGMENTS)
    assert version.parameters["seed"] == 4 and version.status == ModelStatus.TRAINED


def test_train_models_without_history_exits_non_zero_with_a_one_line_reason(db):
    with pytest.raises(CommandError) as failure:
        call_command("train_models")
    assert (
        "\n" not in str(failure.value)
        and "not enough" in str(failure.value).lower()
        or "at least" in str(failure.value)
    )
    assert ModelVersion.objects.filter(status=ModelStatus.NOT_ENOUGH_DATA).count() == 3


def test_train_models_refuses_an_unknown_kind(db):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("train_models", "--kind", "horoscope")


def test_the_nightly_job_trains_and_records_its_run(buyers):
    assert jobs()["train_models"].hour == "3"
    run = job_run("train_models")
    # Segments and next-order train on the buyers; win probability has no deals: a failed run, with the reason.
    assert run.ok is False and "win_probability" in run.error
    assert "Customer segments v1" in run.summary and "Next-order likelihood v1" in run.summary
    assert ModelVersion.objects.filter(status=ModelStatus.TRAINED).count() == 2
