"""seed_demo fills the whole lifecycle through each app's services."""

import io

import pytest
from django.core.management import call_command

from contracts.models import Contract, ContractSignature
from crm.core.audit import audit_chain_verify
from crm.core.models import AuditEvent
from orders.models import Order, Quote

pytestmark = pytest.mark.django_db


def test_the_demo_fills_the_lifecycle_through_the_services():
    out = io.StringIO()
    call_command("seed_demo", customers=60, seed=3, contracts=60, stdout=out, verbosity=0)

    assert "contracts:" in out.getvalue() and "orders:" in out.getvalue()
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert {"approved", "rejected", "active"} <= statuses
    active = Contract.objects.filter(status="active")
    assert ContractSignature.objects.filter(contract__in=active).count() == 2 * active.count()
    assert Order.objects.filter(contract__in=active).exists()
    assert AuditEvent.objects.filter(action="contract.approved").exists()
    quote_states = set(Quote.objects.values_list("status", flat=True))
    assert {"draft", "sent", "accepted", "declined", "expired", "cancelled"} <= quote_states, quote_states
    assert all(quote.contract_id for quote in Quote.objects.filter(status="accepted"))
    assert audit_chain_verify() is None
