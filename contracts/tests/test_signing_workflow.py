"""The signing workflow in contracts/signatures.py: company and customer signatures, the
one-time customer link, refusals, backend failures and the frozen terms.

Every state is reached through the services; every service test checks its audit event.
The helpers at the top are shared by the other signing test modules.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from contracts import selectors, services, signatures
from contracts.choices import ContractStatus as S
from contracts.choices import SigningKeyStatus, SigningParty
from contracts.models import ContractSignature, SigningKey, SigningLink
from contracts.signing.backends.memory import InMemoryBackend
from contracts.signing.base import SigningError, verify
from contracts.signing.keys import signing_key_create
from contracts.signing.statement import signature_check

# The session fixture that initialises a SoftHSM2 token; it skips when softhsm2-util is missing.
from contracts.signing.tests.conftest import softhsm_token  # noqa: F401
from contracts.tests.factories import (
    ContractFactory,
    approved_contract,
    contract_events,
    pending_contract,
    rejected_contract,
    reload,
)
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.roles import Role
from crm.core.tests.factories import PASSWORD, UserFactory
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]

CUSTOMER_SIGNER = "Li Wei"
PASSPHRASE_ENV = "SIGNING_KEY_PASSPHRASE"


# -- helpers shared by the signing test modules ------------------------------------------


def approved(people, **terms):
    """An approved contract of `people.rep`'s, through submit and approve."""
    return approved_contract(approvers=[people.manager], owner=people.rep, customer=people.customer, **terms)


def sign_company(contract, signatory):
    return signatures.contract_sign_company(actor=signatory, contract_id=contract.pk, password=PASSWORD)


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def send_link(contract, actor, email=""):
    """(link, token) of a fresh customer signing link."""
    link, url = signatures.signing_link_send(actor=actor, contract_id=contract.pk, email=email)
    return link, token_of(url)


def sign_customer(contract, rep, name=CUSTOMER_SIGNER):
    _link, token = send_link(contract, rep)
    return signatures.contract_sign_customer(token=token, full_name=name, accepted=True)


def sign_both(contract, people):
    """Company, then customer: the contract ends active."""
    sign_company(contract, people.signatory)
    sign_customer(contract, people.rep)
    contract = reload(contract)
    assert contract.status == S.ACTIVE
    return contract


def reload_link(link):
    return SigningLink.objects.get(pk=link.pk)


def actions(contract):
    return list(contract_events(contract).values_list("action", flat=True))


def event(contract, action):
    found = list(contract_events(contract, action))
    assert len(found) == 1, f"{len(found)} {action} events"
    return found[0]


def raw_sql(sql, *params):
    """Run SQL behind the application's back, in a savepoint so a refusal leaves the test usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def local_backend_settings(key_path, **options):
    return {
        "default": {
            "BACKEND": "contracts.signing.backends.local.LocalFileBackend",
            "OPTIONS": {"key_path": str(key_path), "passphrase_env": PASSPHRASE_ENV, **options},
        }
    }


def signing_people(rep, other_rep, manager, signatory, admin_user):
    """Who takes part, and a customer of `rep`'s with an e-mail address."""
    return SimpleNamespace(
        rep=rep,
        other_rep=other_rep,
        manager=manager,
        signatory=signatory,
        admin=admin_user,
        customer=CustomerFactory(owner=rep, name="Hangzhou Lakeside Trading Co.", email="buyer@lakeside.example"),
    )


# -- both orders end active ----------------------------------------------------------------


def test_company_then_customer_makes_the_contract_active(people):
    contract = approved(people)

    company = sign_company(contract, people.signatory)

    contract = reload(contract)
    assert contract.status == S.SIGNING
    started = event(contract, "contract.signing_started")
    assert started.actor == people.signatory
    assert started.changes == {"status": [S.APPROVED, S.SIGNING]}
    signed = event(contract, "contract.signed")
    assert signed.actor == people.signatory
    assert signed.parent_id == str(contract.customer_id)
    assert signed.extra["party"] == SigningParty.COMPANY
    assert signed.extra["key_id"] == company.key.key_id
    assert signed.extra["statement_sha256"] == company.statement_sha256
    assert company.party == SigningParty.COMPANY
    assert company.signer == people.signatory
    assert company.signer_email == people.signatory.email
    assert company.previous_signature_sha256 == ""
    assert company.key.status == SigningKeyStatus.ACTIVE
    assert company.algorithm == {"algorithm": "RSASSA-PSS", "hash": "SHA-256", "mgf": "MGF1-SHA-256", "salt_length": 32}
    assert verify(company.key.public_key_pem, bytes(company.statement), bytes(company.signature))

    link, token = send_link(contract, people.rep)
    sent = event(contract, "contract.signing_link_sent")
    assert sent.actor == people.rep
    assert sent.extra["email"] == "buyer@lakeside.example"
    assert sent.extra["replaced_links"] == 0

    customer = signatures.contract_sign_customer(token=token, full_name="  Li   Wei ", accepted=True)

    contract = reload(contract)
    assert contract.status == S.ACTIVE
    assert customer.party == SigningParty.CUSTOMER
    assert customer.signer is None
    assert customer.signer_name == "Li Wei"
    assert customer.signer_email == "buyer@lakeside.example"
    assert customer.previous_signature_sha256 == company.signature_sha256
    assert reload_link(link).used_at is not None
    customer_signed = contract_events(contract, "contract.signed").last()
    assert customer_signed.actor is None
    assert customer_signed.extra["party"] == SigningParty.CUSTOMER
    assert customer_signed.extra["signer"] == "Li Wei"
    activated = event(contract, "contract.activated")
    assert activated.actor is None
    assert activated.changes == {"status": [S.SIGNING, S.ACTIVE]}
    assert actions(contract)[-5:] == [
        "contract.signing_started",
        "contract.signed",
        "contract.signing_link_sent",
        "contract.signed",
        "contract.activated",
    ]
    assert all(check.valid for check in selectors.contract_signature_checks(contract))


def test_customer_then_company_makes_the_contract_active(people):
    contract = approved(people)

    _link, token = send_link(contract, people.rep)

    contract = reload(contract)
    assert contract.status == S.SIGNING
    started = event(contract, "contract.signing_started")
    assert started.actor == people.rep

    customer = signatures.contract_sign_customer(token=token, full_name=CUSTOMER_SIGNER, accepted=True)
    assert reload(contract).status == S.SIGNING
    assert event(contract, "contract.signed").extra["party"] == SigningParty.CUSTOMER

    company = sign_company(contract, people.signatory)

    contract = reload(contract)
    assert contract.status == S.ACTIVE
    assert company.previous_signature_sha256 == customer.signature_sha256
    activated = event(contract, "contract.activated")
    assert activated.actor == people.signatory
    assert activated.changes == {"status": [S.SIGNING, S.ACTIVE]}
    assert actions(contract)[-5:] == [
        "contract.signing_started",
        "contract.signing_link_sent",
        "contract.signed",
        "contract.signed",
        "contract.activated",
    ]
    assert contract.decided_at is not None
    assert all(check.valid for check in selectors.contract_signature_checks(contract))


# -- refusals ----------------------------------------------------------------------------


def contract_in(state, people):
    owned = {"owner": people.rep, "customer": people.customer}
    if state == S.DRAFT:
        return ContractFactory(**owned)
    if state == S.PENDING_APPROVAL:
        return pending_contract(**owned)
    if state == S.REJECTED:
        return rejected_contract(approver=people.manager, **owned)
    if state == S.ACTIVE:
        return sign_both(approved(people), people)
    raise AssertionError(state)


@pytest.mark.parametrize("state", [S.DRAFT, S.PENDING_APPROVAL, S.REJECTED, S.ACTIVE])
def test_signing_is_refused_unless_approved_or_signing(people, state):
    contract = contract_in(state, people)
    before_signatures = ContractSignature.objects.filter(contract=contract).count()
    before_events = actions(contract)

    with pytest.raises(TransitionNotAllowed, match="cannot be signed"):
        sign_company(contract, people.signatory)
    with pytest.raises(TransitionNotAllowed, match="cannot be signed"):
        send_link(contract, people.rep)

    assert reload(contract).status == state
    assert ContractSignature.objects.filter(contract=contract).count() == before_signatures
    assert actions(contract) == before_events


def test_the_company_cannot_sign_twice(people):
    contract = approved(people)
    sign_company(contract, people.signatory)
    second = UserFactory(username="second_signatory", role=Role.SIGNATORY)

    with pytest.raises(TransitionNotAllowed, match="company has already signed"):
        sign_company(contract, second)
    with pytest.raises(TransitionNotAllowed, match="company has already signed"):
        sign_company(contract, people.signatory)

    assert contract.signatures.count() == 1
    assert len(contract_events(contract, "contract.signed")) == 1


def test_the_customer_cannot_sign_twice(people):
    contract = approved(people)
    sign_customer(contract, people.rep)

    with pytest.raises(TransitionNotAllowed, match="customer has already signed"):
        send_link(contract, people.rep)

    assert contract.signatures.filter(party=SigningParty.CUSTOMER).count() == 1
    assert reload(contract).status == S.SIGNING


def test_a_wrong_password_is_a_field_error(people):
    contract = approved(people)
    before = actions(contract)

    with pytest.raises(DomainError) as caught:
        signatures.contract_sign_company(actor=people.signatory, contract_id=contract.pk, password="not-it")

    assert caught.value.field == "password"
    assert "password is not correct" in caught.value.message
    assert reload(contract).status == S.APPROVED
    assert not contract.signatures.exists()
    assert actions(contract) == before


@pytest.mark.parametrize("who", ["rep", "manager", "admin_without_role"])
def test_only_a_signatory_signs_for_the_company(people, who):
    actor = {
        "rep": people.rep,
        "manager": people.manager,
        "admin_without_role": UserFactory(username="plain", is_staff=True),
    }[who]
    contract = approved(people)

    with pytest.raises(TransitionNotAllowed, match="Only a signatory"):
        signatures.contract_sign_company(actor=actor, contract_id=contract.pk, password=PASSWORD)

    assert reload(contract).status == S.APPROVED
    assert not contract.signatures.exists()


# -- a failing signing backend leaves nothing behind --------------------------------------


def assert_nothing_signed(contract, before_actions):
    contract = reload(contract)
    assert contract.status == S.APPROVED
    assert not ContractSignature.objects.filter(contract=contract).exists()
    assert actions(contract) == before_actions


def test_local_backend_without_any_key_refuses_clearly(people, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret passphrase")
    empty = tmp_path / "empty"
    empty.mkdir()
    contract = approved(people)
    before = actions(contract)

    refused = pytest.raises(DomainError, match="No active signing key; an admin must run create_signing_key")
    with override_settings(SIGNING_BACKENDS=local_backend_settings(empty)), refused:
        sign_company(contract, people.signatory)

    assert_nothing_signed(contract, before)


def test_local_backend_whose_key_file_is_gone_refuses_clearly(people, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret passphrase")
    keys, empty = tmp_path / "keys", tmp_path / "empty"
    empty.mkdir()
    contract = approved(people)
    before = actions(contract)
    with override_settings(SIGNING_BACKENDS=local_backend_settings(keys)):
        key = signing_key_create(actor=people.admin)

    # The registry names a key, but the configured directory does not hold it.
    with override_settings(SIGNING_BACKENDS=local_backend_settings(empty)), pytest.raises(DomainError) as caught:
        sign_company(contract, people.signatory)

    assert caught.value.message.startswith("The signing service is unavailable:")
    assert f"No key file for {key.key_id}" in caught.value.message
    assert_nothing_signed(contract, before)


def test_local_backend_with_a_wrong_passphrase_refuses_clearly(people, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, "the right passphrase")
    contract = approved(people)
    with override_settings(SIGNING_BACKENDS=local_backend_settings(tmp_path)):
        signing_key_create(actor=people.admin)
    before = actions(contract)
    monkeypatch.setenv(PASSPHRASE_ENV, "a wrong passphrase")

    # A fresh backend (override_settings drops the cached one) must decrypt the key again.
    with override_settings(SIGNING_BACKENDS=local_backend_settings(tmp_path)), pytest.raises(DomainError) as caught:
        sign_company(contract, people.signatory)

    assert caught.value.message.startswith("The signing service is unavailable:")
    assert "wrong passphrase in $SIGNING_KEY_PASSPHRASE" in caught.value.message
    assert_nothing_signed(contract, before)


def test_a_backend_failing_while_signing_rolls_everything_back(people, monkeypatch):
    contract = approved(people)
    before = actions(contract)

    def broken(self, data):
        raise SigningError("the device did not answer")

    monkeypatch.setattr(InMemoryBackend, "sign", broken)
    with pytest.raises(DomainError) as caught:
        sign_company(contract, people.signatory)

    assert caught.value.message == "The signing service failed; nothing was signed: the device did not answer"
    # The key registered on the way is rolled back with the rest.
    assert_nothing_signed(contract, before)


def test_a_failing_customer_signature_leaves_the_link_usable(people, monkeypatch):
    contract = approved(people)
    link, token = send_link(contract, people.rep)

    monkeypatch.setattr(InMemoryBackend, "sign", lambda self, data: b"\x00" * 384)
    with pytest.raises(DomainError, match="nothing was signed: .*does not verify"):
        signatures.contract_sign_customer(token=token, full_name=CUSTOMER_SIGNER, accepted=True)

    assert reload_link(link).used_at is None
    assert not contract.signatures.exists()
    assert reload(contract).status == S.SIGNING  # the link had started signing


# -- the customer's one-time link ---------------------------------------------------------


def test_a_link_works_once(people):
    contract = approved(people)
    link, token = send_link(contract, people.rep)
    signatures.contract_sign_customer(token=token, full_name=CUSTOMER_SIGNER, accepted=True)

    with pytest.raises(DomainError, match="already used"):
        selectors.signing_link_get(token)
    with pytest.raises(DomainError, match="already used"):
        signatures.contract_sign_customer(token=token, full_name="Someone Else", accepted=True)

    assert contract.signatures.filter(party=SigningParty.CUSTOMER).count() == 1


def test_an_expired_link_is_refused(people):
    contract = approved(people)
    link, token = send_link(contract, people.rep)
    assert selectors.signing_link_get(token) == link
    SigningLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    with pytest.raises(DomainError, match="expired"):
        selectors.signing_link_get(token)
    with pytest.raises(DomainError, match="expired"):
        signatures.contract_sign_customer(token=token, full_name=CUSTOMER_SIGNER, accepted=True)
    with pytest.raises(DomainError, match="already used, revoked or expired"):
        signatures.signing_link_revoke(actor=people.rep, contract_id=link.contract_id, link_id=link.pk)

    assert not contract.signatures.exists()


def test_a_link_expires_after_the_configured_days(people, settings):
    settings.SIGNING_LINK_DAYS = 3
    link, _token = send_link(approved(people), people.rep)
    assert link.expires_at - link.created_at == pytest.approx(datetime.timedelta(days=3), abs=datetime.timedelta(1))


def test_a_revoked_link_is_refused(people):
    contract = approved(people)
    link, token = send_link(contract, people.rep)

    signatures.signing_link_revoke(actor=people.rep, contract_id=link.contract_id, link_id=link.pk)

    assert reload_link(link).revoked_at is not None
    revoked = event(contract, "contract.signing_link_revoked")
    assert revoked.actor == people.rep
    assert revoked.extra == {"email": "buyer@lakeside.example"}
    with pytest.raises(DomainError, match="withdrawn"):
        signatures.contract_sign_customer(token=token, full_name=CUSTOMER_SIGNER, accepted=True)
    with pytest.raises(DomainError, match="already used, revoked or expired"):
        signatures.signing_link_revoke(actor=people.rep, contract_id=link.contract_id, link_id=link.pk)


def test_only_who_may_change_the_contract_revokes_its_link(people):
    contract = approved(people)
    link, _token = send_link(contract, people.rep)

    for outsider in (people.other_rep, people.signatory):
        with pytest.raises(DomainError, match="does not exist or you may not revoke it"):
            signatures.signing_link_revoke(actor=outsider, contract_id=link.contract_id, link_id=link.pk)

    assert reload_link(link).revoked_at is None
    assert not contract_events(contract, "contract.signing_link_revoked").exists()


def test_sending_again_revokes_the_previous_link(people):
    contract = approved(people)
    first, first_token = send_link(contract, people.rep)

    second, second_token = send_link(contract, people.rep, email="legal@lakeside.example")

    assert reload_link(first).revoked_at is not None
    assert reload_link(second).is_usable()
    sent = contract_events(contract, "contract.signing_link_sent").last()
    assert sent.extra["replaced_links"] == 1
    assert sent.extra["email"] == "legal@lakeside.example"
    with pytest.raises(DomainError, match="withdrawn"):
        selectors.signing_link_get(first_token)
    signature = signatures.contract_sign_customer(token=second_token, full_name=CUSTOMER_SIGNER, accepted=True)
    assert signature.signer_email == "legal@lakeside.example"
    # Sending a link when signing has started does not start it again.
    assert len(contract_events(contract, "contract.signing_started")) == 1


def test_the_link_is_emailed_only_when_the_transaction_commits(people, django_capture_on_commit_callbacks):
    contract = approved(people)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _link, url = signatures.signing_link_send(actor=people.rep, contract_id=contract.pk)
    assert len(callbacks) == 1
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        _link, url = signatures.signing_link_send(actor=people.rep, contract_id=contract.pk)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["buyer@lakeside.example"]
    assert contract.number in message.subject
    assert url in message.body
    assert "/contracts/sign/" in url


def test_a_refused_link_sends_no_mail(people, django_capture_on_commit_callbacks):
    contract = ContractFactory(owner=people.rep, customer=people.customer)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionNotAllowed):
        signatures.signing_link_send(actor=people.rep, contract_id=contract.pk)

    assert mail.outbox == []


def test_a_link_needs_an_address(people):
    customer = CustomerFactory(owner=people.rep, email="")
    contract = approved_contract(approvers=[people.manager], owner=people.rep, customer=customer)

    with pytest.raises(DomainError) as caught:
        send_link(contract, people.rep)

    assert caught.value.field == "email"
    assert not SigningLink.objects.filter(contract=contract).exists()


@pytest.mark.parametrize(
    ("full_name", "accepted", "field"),
    [("   ", True, "full_name"), (CUSTOMER_SIGNER, False, "accepted")],
)
def test_the_customer_gives_a_name_and_accepts(people, full_name, accepted, field):
    contract = approved(people)
    link, token = send_link(contract, people.rep)

    with pytest.raises(DomainError) as caught:
        signatures.contract_sign_customer(token=token, full_name=full_name, accepted=accepted)

    assert caught.value.field == field
    assert reload_link(link).is_usable()


def test_an_unknown_token_is_refused(people):
    with pytest.raises(DomainError, match="not valid"):
        signatures.contract_sign_customer(token="no-such-token", full_name=CUSTOMER_SIGNER, accepted=True)


# -- signed terms are frozen ------------------------------------------------------------


def test_a_signed_contract_cannot_be_edited(people):
    contract = approved(people)
    sign_company(contract, people.signatory)

    with pytest.raises(TransitionNotAllowed, match="cannot be edited"):
        services.contract_update(actor=people.rep, contract_id=contract.pk, amount=Decimal("1.00"))

    assert reload(contract).amount == Decimal("50000.00")
    assert not contract_events(contract, "contract.updated").exists()


def test_the_database_refuses_to_change_signed_terms(people):
    contract = approved(people)
    sign_company(contract, people.signatory)

    with pytest.raises(IntegrityError, match="terms are frozen"):
        raw_sql("UPDATE contracts_contract SET amount = amount + 1 WHERE id = %s", contract.pk)

    raw_sql("UPDATE contracts_contract SET status = 'terminated' WHERE id = %s", contract.pk)
    assert reload(contract).status == S.TERMINATED
    assert reload(contract).amount == Decimal("50000.00")


def test_an_unsigned_contract_can_still_change_in_the_database(people):
    contract = approved(people)
    raw_sql("UPDATE contracts_contract SET amount = amount + 1 WHERE id = %s", contract.pk)
    assert reload(contract).amount == Decimal("50001.00")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE contracts_contractsignature SET signer_name = 'Someone else' WHERE contract_id = %s",
        "DELETE FROM contracts_contractsignature WHERE contract_id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_signature(people, sql):
    contract = approved(people)
    sign_company(contract, people.signatory)

    with pytest.raises(DatabaseError, match="signatures are immutable"):
        raw_sql(sql, contract.pk)

    assert contract.signatures.get().signer_name == people.signatory.get_full_name()


# -- the same round trip on a PKCS#11 token (SoftHSM2) -----------------------------------


@pytest.fixture
def pkcs11_settings(request):
    """SIGNING_BACKENDS pointing at a fresh SoftHSM2 token (skipped when SoftHSM2 is missing)."""
    token = request.getfixturevalue("softhsm_token")
    backends = {"default": {"BACKEND": "contracts.signing.backends.pkcs11.Pkcs11Backend", "OPTIONS": token}}
    with override_settings(SIGNING_BACKENDS=backends):
        yield SimpleNamespace(**token)


def test_pkcs11_round_trip(people, pkcs11_settings):
    key = signing_key_create(actor=people.admin)
    created = SigningKey.objects.get(pk=key.pk)
    assert created.status == SigningKeyStatus.ACTIVE
    assert created.backend_alias == "default"
    contract = approved(people)

    company = sign_company(contract, people.signatory)
    customer = sign_customer(contract, people.rep)

    contract = reload(contract)
    assert contract.status == S.ACTIVE
    assert company.key == key and customer.key == key
    assert event(contract, "contract.activated").actor is None
    assert [event.extra["key_id"] for event in contract_events(contract, "contract.signed")] == [key.key_id] * 2
    checks = selectors.contract_signature_checks(contract)
    assert [check.valid for check in checks] == [True, True]
    assert all(verify(key.public_key_pem, bytes(s.statement), bytes(s.signature)) for s in (company, customer))


def test_pkcs11_with_a_wrong_pin_refuses_clearly(people, pkcs11_settings, monkeypatch):
    signing_key_create(actor=people.admin)
    contract = approved(people)
    before = actions(contract)
    monkeypatch.setenv(pkcs11_settings.pin_env, "0000")

    with pytest.raises(DomainError) as caught:
        sign_company(contract, people.signatory)

    assert caught.value.message.startswith("The signing service is unavailable:")
    assert "Wrong PIN" in caught.value.message
    assert_nothing_signed(contract, before)


def test_signature_check_of_a_fresh_signature_is_valid(people):
    contract = approved(people)
    check = signature_check(sign_company(contract, people.signatory))
    assert check.valid and check.changed_fields == [] and check.problems == []
