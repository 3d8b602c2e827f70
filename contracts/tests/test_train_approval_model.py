"""The train_approval_model command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contracts.models import ApprovalModel
from contracts.tests.test_assistant import decided_history
from crm.core.models import AuditEvent
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


@pytest.fixture
def customers(rep):
    return [CustomerFactory(owner=rep, tier=tier) for tier in ("small", "key")]


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("train_approval_model", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_trains_and_reports_accuracy_against_the_baseline(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=20)

    out, _err = run("--min-samples", "20", "--max-depth", "3", "--test-size", "0.3", "--seed", "5")

    model = ApprovalModel.objects.get()
    assert model.version == 1
    assert model.parameters["max_depth"] == 3
    assert model.parameters["random_state"] == 5
    assert model.test_size == 6
    assert out.startswith("Approval model v1: trained on 14 contracts; held-out accuracy")
    assert f"(majority baseline {model.baseline_accuracy:.1%})" in out
    assert AuditEvent.objects.get(action="approval_model.trained").source == "command"


def test_it_exits_non_zero_with_too_little_history(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=4)

    with pytest.raises(CommandError, match="^Too little history: 4 contracts have been decided"):
        run()
    assert not ApprovalModel.objects.exists()


def test_it_exits_non_zero_when_every_decision_was_the_same(rep, manager, customers):
    decided_history(owner=rep, approver=manager, customers=customers, count=6, outcomes=("reject",))

    with pytest.raises(CommandError, match="0 were approved and 6 rejected"):
        run("--min-samples", "5")


def test_it_refuses_a_held_out_share_outside_zero_and_one(rep, manager, customers):
    with pytest.raises(CommandError, match="held-out share"):
        run("--test-size", "1.5")
