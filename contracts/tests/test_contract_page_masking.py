"""Roles without contact details see contract pages with e-mails and phones masked."""

import pytest

from contracts.tests.factories import ContractFactory, signing_contract
from contracts.tests.factories import customer_sign as customer_signs
from customers.tests.factories import CustomerFactory

BODY = "Notices go to buyer@tea.example.com or +86 138 0013 5678.\n1. Scope\n"


@pytest.fixture
def signed(rep, manager, signatory):
    customer = CustomerFactory(owner=rep, email="buyer@tea.example.com")
    contract = signing_contract(signatory=signatory, approvers=[manager], owner=rep, customer=customer, body=BODY)
    customer_signs(contract)
    return contract


def test_a_service_agent_sees_the_body_and_signers_masked(client_for, agent, signed):
    client = client_for(agent)
    page = client.get(signed.get_absolute_url()).content.decode()
    certificate = client.get(f"/contracts/{signed.pk}/certificate/").content.decode()
    assert "buyer@tea.example.com" not in page + certificate
    assert "0013" not in page
    assert "b***@tea.example.com" in page
    assert client.get(f"/contracts/{signed.pk}/evidence.zip").status_code == 403


def test_the_owner_sees_the_body_as_written(client_for, rep, signed):
    page = client_for(rep).get(signed.get_absolute_url()).content.decode()
    assert "buyer@tea.example.com" in page and "+86 138 0013 5678" in page


def test_the_history_of_a_body_change_is_masked_too(client_for, rep, agent):
    contract = ContractFactory(owner=rep, customer=CustomerFactory(owner=rep), body=BODY)
    page = client_for(agent).get(contract.get_absolute_url()).content.decode()
    assert "buyer@tea.example.com" not in page
