"""Verification: a signature names every signed field changed behind the application's
back, `signature_check` and the `verify_signatures` command alike.

To change a signed contract the test disables the freeze trigger inside its own
transaction (rolled back at the end of the test), as someone with database access would.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contracts.models import ContractSignature
from contracts.signing.keys import signing_key_revoke, signing_key_rotate
from contracts.signing.statement import signature_check
from contracts.tests.factories import approved_contract, reload
from contracts.tests.test_signing_workflow import (
    approved,
    raw_sql,
    sign_both,
    sign_company,
)
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]

FREEZE_TRIGGER = ("contracts_contract", "contracts_contract_freeze_signed")
IMMUTABLE_TRIGGER = ("contracts_contractsignature", "contracts_signature_immutable")


def disable_trigger(table_and_trigger):
    """Switch a trigger off inside the test's transaction (so only until its rollback).

    ALTER TABLE refuses while deferred foreign-key checks are pending, so they run first.
    """
    table, trigger = table_and_trigger
    raw_sql("SET CONSTRAINTS ALL IMMEDIATE")
    raw_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    raw_sql("SET CONSTRAINTS ALL DEFERRED")


# Each signed field, the SQL that changes it behind the application's back, and the name
# the check gives it.
TAMPERING = {
    "title": ("UPDATE contracts_contract SET title = title || ' (amended)' WHERE id = %s", "title"),
    "amount": ("UPDATE contracts_contract SET amount = amount * 10 WHERE id = %s", "amount"),
    "currency": ("UPDATE contracts_contract SET currency = 'USD' WHERE id = %s", "currency"),
    "start_date": ("UPDATE contracts_contract SET start_date = start_date - 30 WHERE id = %s", "start_date"),
    "end_date": ("UPDATE contracts_contract SET end_date = end_date + 365 WHERE id = %s", "end_date"),
    "payment_terms_days": (
        "UPDATE contracts_contract SET payment_terms_days = 90 WHERE id = %s",
        "payment_terms_days",
    ),
    "body": ("UPDATE contracts_contract SET body = body || E'\\n6. No liability.' WHERE id = %s", "body"),
    "customer name": (
        "UPDATE customers_customer SET name = 'Somebody Else Ltd' "
        "WHERE id = (SELECT customer_id FROM contracts_contract WHERE id = %s)",
        "customer",
    ),
    "number": ("UPDATE contracts_contract SET number = 'CT-2099-999999' WHERE id = %s", "number"),
    "version": ("UPDATE contracts_contract SET version = version + 1 WHERE id = %s", "version"),
}


@pytest.fixture
def signed(people):
    """An active contract signed by both parties."""
    return sign_both(approved(people), people)


def verify(*args):
    """(stdout, error) of verify_signatures; error is the CommandError message or None."""
    out = StringIO()
    try:
        call_command("verify_signatures", *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def checks_of(contract):
    signatures = ContractSignature.objects.filter(contract=contract).select_related("key", "contract__customer")
    return [signature_check(signature) for signature in signatures]


def test_verify_signatures_passes_when_nothing_changed(signed, people):
    sign_company(approved(people), people.signatory)  # a second contract, signed by one party so far

    output, error = verify()

    assert error is None
    assert "Verified 3 signature(s) of 2 contract(s); all valid." in output


def test_verify_signatures_checks_one_contract(signed, people):
    sign_company(approved(people), people.signatory)

    output, error = verify("--contract", signed.number.lower())

    assert error is None
    assert "Verified 2 signature(s) of 1 contract(s)" in output


def test_verify_signatures_names_an_unknown_or_unsigned_contract(people):
    draft = approved(people)

    assert verify("--contract", "CT-1999-000001")[1] == "No contract CT-1999-000001."
    assert verify("--contract", draft.number)[1] == f"Contract {draft.number} has no signatures."


def test_verify_signatures_with_no_signatures_at_all(db):
    output, error = verify()
    assert error is None
    assert "Verified 0 signature(s)" in output


@pytest.mark.parametrize("field", TAMPERING)
def test_a_field_changed_after_signing_is_named(signed, people, field):
    # Another customer's contract, so changing the customer's name leaves it alone.
    other = approved_contract(approvers=[people.manager], owner=people.rep, customer=CustomerFactory(owner=people.rep))
    untouched = sign_both(other, people)
    sql, name = TAMPERING[field]
    disable_trigger(FREEZE_TRIGGER)
    assert raw_sql(sql, signed.pk) == 1

    checks = checks_of(signed)
    assert len(checks) == 2
    for check in checks:
        assert not check.valid
        assert check.cryptographically_valid, "the stored statement itself is intact"
        assert check.changed_fields == [name]
        assert check.problems == []
    assert all(check.valid for check in checks_of(untouched))

    output, error = verify()

    number = reload(signed).number
    assert error == f"1 signed contract(s) failed verification: {number}."
    label = f"{number} (signed as {signed.number})" if field == "number" else number
    assert f"{label}: changed after signing: {name}\n" in output
    assert untouched.number not in output


def test_several_changed_fields_are_all_named(signed):
    disable_trigger(FREEZE_TRIGGER)
    raw_sql(
        "UPDATE contracts_contract SET amount = 1, body = 'Nothing', end_date = end_date + 1 WHERE id = %s", signed.pk
    )

    output, error = verify("--contract", signed.number)

    assert f"{signed.number}: changed after signing: amount, end_date, body" in output
    assert error is not None and signed.number in error


def test_a_modified_stored_statement_is_reported(signed):
    company = signed.signatures.get(party="company")
    statement = json.loads(bytes(company.statement))
    statement["contract"]["amount"] = "1.00"
    forged = json.dumps(statement, separators=(",", ":"), sort_keys=True).encode()
    disable_trigger(IMMUTABLE_TRIGGER)
    raw_sql("UPDATE contracts_contractsignature SET statement = %s WHERE id = %s", forged, company.pk)

    check = signature_check(ContractSignature.objects.select_related("key", "contract__customer").get(pk=company.pk))

    assert not check.valid
    assert not check.cryptographically_valid
    assert "the signature does not match the stored statement" in check.problems
    assert "the stored statement hash does not match the statement" in check.problems
    assert check.changed_fields == ["amount"]
    output, error = verify()
    assert error == f"1 signed contract(s) failed verification: {signed.number}."
    assert "company signature: the signature does not match the stored statement" in output


def test_a_modified_signature_is_reported(signed):
    customer = signed.signatures.get(party="customer")
    damaged = bytearray(bytes(customer.signature))
    damaged[10] ^= 0x01
    disable_trigger(IMMUTABLE_TRIGGER)
    raw_sql("UPDATE contracts_contractsignature SET signature = %s WHERE id = %s", bytes(damaged), customer.pk)

    output, error = verify()

    assert error is not None and signed.number in error
    assert f"{signed.number}: customer signature: the signature does not match the stored statement" in output


def test_a_replaced_public_key_is_reported(signed):
    raw_sql("UPDATE contracts_signingkey SET public_key_pem = 'not a key'")

    output, error = verify()

    assert error is not None
    assert "the stored public key is unusable" in output


def test_every_failing_contract_is_listed(people):
    first, second = (sign_both(approved(people), people) for _ in range(2))
    disable_trigger(FREEZE_TRIGGER)
    raw_sql("UPDATE contracts_contract SET title = 'Changed' WHERE id IN (%s, %s)", first.pk, second.pk)

    output, error = verify("--chunk-size", "1")

    assert error == f"2 signed contract(s) failed verification: {first.number}, {second.number}."
    assert output.count("changed after signing: title") == 2


def test_verification_reads_in_chunks(people, django_assert_max_num_queries):
    for _ in range(3):
        sign_both(approved(people), people)

    # 6 signatures in chunks of 2: one query per chunk, whatever the number of contracts.
    with django_assert_max_num_queries(8):
        output, error = verify("--chunk-size", "2")

    assert error is None
    assert "Verified 6 signature(s) of 3 contract(s)" in output


def test_signatures_of_a_rotated_key_still_verify(signed, people, admin_user):
    old_key = signed.signatures.first().key
    new_key = signing_key_rotate(actor=admin_user)

    later = sign_both(approved(people), people)

    assert set(later.signatures.values_list("key", flat=True)) == {new_key.pk}
    assert set(signed.signatures.values_list("key", flat=True)) == {old_key.pk}
    assert all(check.valid for contract in (signed, later) for check in checks_of(contract))
    output, error = verify()
    assert error is None and "Verified 4 signature(s) of 2 contract(s)" in output


def test_signatures_made_before_a_revocation_stay_valid(signed, admin_user):
    key = signed.signatures.first().key
    signing_key_revoke(actor=admin_user, key_id=key.key_id, reason="The HSM was replaced")

    assert all(check.valid for check in checks_of(signed))
    output, error = verify()
    assert error is None and "Verified 2 signature(s)" in output


def test_a_contract_changed_after_signing_offers_terminating_but_not_completing(signed, people, client):
    client.force_login(people.manager)
    url = signed.get_absolute_url()
    assert "Mark completed" in client.get(url).content.decode()

    disable_trigger(FREEZE_TRIGGER)
    raw_sql(TAMPERING["amount"][0], signed.pk)

    page = client.get(url).content.decode()
    assert "Mark completed" not in page
    assert "Terminate contract" in page
