"""The contracts admin takes workflow steps and saves rows through the same services as the pages."""

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.urls import reverse

from contracts.choices import ContractStatus as S
from contracts.models import ContractTemplate
from contracts.signing.keys import signing_key_for_signing
from contracts.tests.factories import ContractFactory, pending_contract, reload
from crm.core.models import AuditEvent
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep)


def run_action(client, action, contracts):
    return client.post(
        reverse("admin:contracts_contract_changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [contract.pk for contract in contracts], "index": 0},
        follow=True,
    )


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_submitting_from_the_admin_goes_through_the_service_and_reports_each_refusal(
    client_for, admin_user, rep, customer
):
    draft = ContractFactory(owner=rep, customer=customer)
    already = pending_contract(owner=rep, customer=customer)

    response = run_action(client_for(admin_user), "submit_selected", [draft, already])

    assert reload(draft).status == S.PENDING_APPROVAL
    assert reload(already).status == S.PENDING_APPROVAL
    messages = texts(response)
    assert "1 contract(s) submitted." in messages
    assert any(message.startswith(f"{already.number} ") and "cannot become" in message for message in messages)
    event = AuditEvent.objects.get(action="contract.submitted", target_id=str(draft.pk))
    assert (event.actor, event.source) == (admin_user, "admin")


def test_an_admin_action_obeys_the_approval_levels(client_for, admin_user, rep, customer):
    contract = pending_contract(owner=rep, customer=customer)

    response = run_action(client_for(admin_user), "approve_selected", [contract])

    assert reload(contract).status == S.PENDING_APPROVAL
    assert any("waits for a decision by a sales manager" in message for message in texts(response))


def test_signing_keys_are_read_only_in_the_admin(client_for, admin_user):
    _backend, key = signing_key_for_signing()
    client = client_for(admin_user)
    assert client.get(reverse("admin:contracts_signingkey_add")).status_code == 403
    response = client.post(reverse("admin:contracts_signingkey_change", args=[key.pk]), {"status": "revoked"})
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.status == "active"


def test_a_template_saved_in_the_admin_is_audited(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("admin:contracts_contracttemplate_add"),
        {
            "name": "Supply",
            "body": "Between ${company_name} and ${customer_name}.",
            "required_clauses": "[]",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    template = ContractTemplate.objects.get(name="Supply")
    event = AuditEvent.objects.get(action="contracttemplate.created", target_id=str(template.pk))
    assert (event.actor, event.source) == (admin_user, "admin")
