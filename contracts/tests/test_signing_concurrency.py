"""Signing at the same moment: real threads against real PostgreSQL, each thread in its
own connection and transaction, all released together by a barrier."""

import time
from types import SimpleNamespace

import pytest

from contracts import selectors, signatures
from contracts.choices import ContractStatus as S
from contracts.choices import SigningParty
from contracts.models import ContractSignature, SigningKey, SigningLink
from contracts.tests.factories import approved_contract, contract_events, default_approval_rules, reload
from contracts.tests.test_signing_workflow import send_link
from crm.core.audit import audit_chain_verify
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.roles import Role
from crm.core.tests.concurrency import race
from crm.core.tests.factories import PASSWORD, UserFactory
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(db):
    # A transactional test starts from a flushed database: set the rules up explicitly.
    default_approval_rules()
    rep = UserFactory(username="race_rep", role=Role.SALES_REP)
    return SimpleNamespace(
        rep=rep,
        customer=CustomerFactory(owner=rep, email="buyer@race.example"),
        manager=UserFactory(username="race_manager", role=Role.SALES_MANAGER),
        signatory_a=UserFactory(username="signatory_a", role=Role.SIGNATORY),
        signatory_b=UserFactory(username="signatory_b", role=Role.SIGNATORY),
    )


@pytest.fixture
def contract(people):
    return approved_contract(approvers=[people.manager], owner=people.rep, customer=people.customer)


def split(outcomes):
    winners = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    return winners, losers


def sign_as(signatory, contract):
    return lambda: signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)


def customer_signs(token, name="Li Wei"):
    return lambda: signatures.contract_sign_customer(token=token, full_name=name, accepted=True)


def test_two_signatories_at_once_make_one_company_signature(people, contract):
    outcomes = race(sign_as(people.signatory_a, contract), sign_as(people.signatory_b, contract))

    winners, losers = split(outcomes)
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], TransitionNotAllowed), outcomes
    assert "company has already signed" in losers[0].message
    signature = ContractSignature.objects.get(contract=contract)
    assert signature.party == SigningParty.COMPANY
    assert signature.signer_id == winners[0].signer_id
    signed = list(contract_events(contract, "contract.signed"))
    assert len(signed) == 1 and signed[0].actor_id == signature.signer_id
    assert contract_events(contract, "contract.signing_started").count() == 1
    assert reload(contract).status == S.SIGNING
    assert audit_chain_verify() is None


def test_two_requests_with_the_same_token_make_one_customer_signature(people, contract):
    _link, token = send_link(contract, people.rep)

    outcomes = race(customer_signs(token, "Li Wei"), customer_signs(token, "Wang Fang"))

    winners, losers = split(outcomes)
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], DomainError), outcomes
    assert "already used" in losers[0].message
    signature = ContractSignature.objects.get(contract=contract)
    assert signature.party == SigningParty.CUSTOMER
    assert signature.signer_name == winners[0].signer_name
    assert contract_events(contract, "contract.signed").count() == 1
    assert SigningLink.objects.get(contract=contract).used_at is not None
    assert audit_chain_verify() is None


def test_both_parties_at_once_activate_the_contract_once(people, contract):
    _link, token = send_link(contract, people.rep)

    outcomes = race(sign_as(people.signatory_a, contract), customer_signs(token))

    winners, losers = split(outcomes)
    assert len(winners) == 2 and not losers, outcomes
    assert sorted(ContractSignature.objects.filter(contract=contract).values_list("party", flat=True)) == [
        "company",
        "customer",
    ]
    assert reload(contract).status == S.ACTIVE
    assert contract_events(contract, "contract.signed").count() == 2
    assert contract_events(contract, "contract.activated").count() == 1
    second = max(winners, key=lambda signature: (signature.signed_at, signature.pk))
    first = min(winners, key=lambda signature: (signature.signed_at, signature.pk))
    assert second.previous_signature_sha256 == first.signature_sha256
    assert all(check.valid for check in selectors.contract_signature_checks(reload(contract)))
    assert audit_chain_verify() is None


def test_two_contracts_signed_at_once_share_one_new_in_memory_key(people, contract):
    """No key registered yet: both signatures register the process's in-memory key at once."""
    other = approved_contract(approvers=[people.manager], owner=people.rep, customer=people.customer)
    assert not SigningKey.objects.exists()

    outcomes = race(sign_as(people.signatory_a, contract), sign_as(people.signatory_b, other))

    winners, losers = split(outcomes)
    assert len(winners) == 2 and not losers, outcomes
    key = SigningKey.objects.get()
    assert {signature.key_id for signature in winners} == {key.pk}
    assert all(check.valid for c in (contract, other) for check in selectors.contract_signature_checks(reload(c)))
    assert audit_chain_verify() is None


def test_the_customer_signing_while_the_link_is_sent_again_does_not_deadlock(people, contract, monkeypatch):
    """The customer's request holds its link while the owner sends a new one: both lock the
    contract before its links, so one waits for the other instead of a deadlock."""
    _link, token = send_link(contract, people.rep)
    lock_contract = signatures.contract_locked

    def slow_for_the_customer(actor, contract_id, *args):
        if actor is None:  # the customer's path: widen the gap between its two locks
            time.sleep(0.5)
        return lock_contract(actor, contract_id, *args)

    def send_a_moment_later():
        time.sleep(0.2)
        return signatures.signing_link_send(actor=people.rep, contract_id=contract.pk)

    monkeypatch.setattr(signatures, "contract_locked", slow_for_the_customer)
    outcomes = race(customer_signs(token), send_a_moment_later)

    assert not any(isinstance(outcome, Exception) and not isinstance(outcome, DomainError) for outcome in outcomes), (
        outcomes
    )
    signed, sent = outcomes
    if isinstance(signed, DomainError):  # the new link replaced the old one first
        assert "withdrawn" in signed.message
        assert not ContractSignature.objects.filter(contract=contract).exists()
    else:  # the customer signed first; a link for a signed party is refused
        assert isinstance(sent, TransitionNotAllowed)
        assert ContractSignature.objects.get(contract=contract).party == SigningParty.CUSTOMER
    assert audit_chain_verify() is None
