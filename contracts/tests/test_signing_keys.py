"""The key registry (contracts/signing/keys.py) and its commands: create_signing_key,
list_signing_keys, rotate_signing_key, revoke_signing_key.

Keys live with a LocalFileBackend in a temporary directory, the passphrase in the
environment, as in production; the in-memory backend is checked where it differs.
"""

import stat
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.test import override_settings

from contracts.choices import ContractStatus as S
from contracts.choices import SigningKeyStatus
from contracts.models import ContractSignature, SigningKey
from contracts.signing.backends.local import key_file_name
from contracts.signing.keys import signing_key_create, signing_key_for_signing, signing_key_revoke, signing_key_rotate
from contracts.signing.statement import signature_check
from contracts.tests.factories import reload
from contracts.tests.test_signing_workflow import (
    PASSPHRASE_ENV,
    actions,
    approved,
    local_backend_settings,
    sign_both,
    sign_company,
)
from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]

COMMANDS = ["create_signing_key", "list_signing_keys", "rotate_signing_key", "revoke_signing_key", "verify_signatures"]


@pytest.fixture
def key_dir(tmp_path, monkeypatch):
    """SIGNING_BACKENDS["default"] is a LocalFileBackend over an empty key directory."""
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    directory = tmp_path / "signing-keys"
    with override_settings(SIGNING_BACKENDS=local_backend_settings(directory)):
        yield directory


def run(name, *args, **options):
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def key_events(key, action=None):
    events = AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(SigningKey), target_id=str(key.pk)
    ).order_by("id")
    return events.filter(action=action) if action else events


def only_event(key, action):
    events = list(key_events(key, action))
    assert len(events) == 1, f"{len(events)} {action} events for {key}"
    return events[0]


# -- create ------------------------------------------------------------------------------


def test_create_signing_key_writes_an_encrypted_key_and_activates_it(key_dir):
    output = run("create_signing_key")

    key = SigningKey.objects.get()
    assert key.status == SigningKeyStatus.ACTIVE
    assert key.backend_alias == "default"
    assert key.activated_at is not None
    assert key.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert f"Created signing key {key.key_id} for backend default" in output
    path = key_dir / key_file_name(key.key_id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    created = only_event(key, "signingkey.created")
    assert created.actor is None
    assert created.source == "command"
    assert created.extra == {"backend": "default"}


def test_create_signing_key_refuses_a_second_active_key(key_dir):
    run("create_signing_key")

    with pytest.raises(CommandError, match="already has an active key; rotate it instead"):
        run("create_signing_key")

    assert SigningKey.objects.count() == 1


def test_create_signing_key_names_an_unknown_backend(key_dir):
    with pytest.raises(CommandError, match="Could not find signing backend 'archive'"):
        run("create_signing_key", "--backend", "archive")


def test_create_signing_key_without_the_passphrase_says_so(key_dir, monkeypatch):
    monkeypatch.delenv(PASSPHRASE_ENV)

    with pytest.raises(CommandError, match=f"Set \\${PASSPHRASE_ENV}"):
        run("create_signing_key")

    assert not SigningKey.objects.exists()
    assert not key_dir.exists() or not any(key_dir.iterdir())


def test_create_signing_key_for_a_second_backend_alias(tmp_path, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    backends = {
        **local_backend_settings(tmp_path / "default"),
        "archive": local_backend_settings(tmp_path / "archive")["default"],
    }
    with override_settings(SIGNING_BACKENDS=backends):
        run("create_signing_key")
        run("create_signing_key", "--backend", "archive")

    assert sorted(SigningKey.objects.values_list("backend_alias", "status")) == [
        ("archive", "active"),
        ("default", "active"),
    ]


# -- rotate ------------------------------------------------------------------------------


def test_rotate_retires_the_old_key_and_old_signatures_still_verify(key_dir, people):
    run("create_signing_key")
    old = SigningKey.objects.get()
    first = sign_both(approved(people), people)

    output = run("rotate_signing_key")

    old.refresh_from_db()
    new = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    assert new != old
    assert old.status == SigningKeyStatus.RETIRED and old.retired_at is not None
    assert f"now signs with {new.key_id}" in output and f"Retired {old.key_id}" in output
    retired = only_event(old, "signingkey.retired")
    assert retired.changes == {"status": ["active", "retired"]}
    assert retired.source == "command"
    rotated = only_event(new, "signingkey.rotated")
    assert rotated.actor is None and rotated.extra == {"backend": "default"}
    assert sorted(path.name for path in key_dir.iterdir()) == sorted(
        [key_file_name(old.key_id), key_file_name(new.key_id)]
    )

    second = approved(people)
    signature = sign_company(second, people.signatory)

    assert signature.key == new
    assert set(first.signatures.values_list("key", flat=True)) == {old.pk}
    assert all(signature_check(s).valid for s in ContractSignature.objects.select_related("key"))
    assert "Verified 3 signature(s) of 2 contract(s)" in run("verify_signatures")


def test_rotate_without_an_active_key_just_creates_one(key_dir):
    output = run("rotate_signing_key")

    key = SigningKey.objects.get()
    assert key.status == SigningKeyStatus.ACTIVE
    assert "Retired" not in output
    only_event(key, "signingkey.rotated")


def test_signing_key_rotate_service_audits_the_actor(key_dir, admin_user):
    first = signing_key_create(actor=admin_user)
    second = signing_key_rotate(actor=admin_user)

    assert only_event(first, "signingkey.created").actor == admin_user
    assert only_event(first, "signingkey.retired").actor == admin_user
    assert only_event(second, "signingkey.rotated").actor == admin_user
    backend, key = signing_key_for_signing()
    assert key == second and backend.key_id() == second.key_id


def test_a_retired_key_signs_nothing_more(key_dir, people):
    run("create_signing_key")
    old = SigningKey.objects.get()
    run("rotate_signing_key")

    backend, key = signing_key_for_signing()
    signature = sign_company(approved(people), people.signatory)

    assert key.status == SigningKeyStatus.ACTIVE and key != old
    assert backend.key_id() == key.key_id
    assert signature.key == key


# -- revoke ------------------------------------------------------------------------------


def test_revoke_then_signing_fails_clearly_and_old_signatures_stay_valid(key_dir, people):
    run("create_signing_key")
    key = SigningKey.objects.get()
    signed = sign_both(approved(people), people)
    waiting = approved(people)
    before = actions(waiting)

    output = run("revoke_signing_key", key.key_id, "--reason", "The backup tape was lost")

    key.refresh_from_db()
    assert key.status == SigningKeyStatus.REVOKED
    assert key.revoked_at is not None
    assert key.revocation_reason == "The backup tape was lost"
    assert f"Revoked {key.key_id}" in output
    assert "has no active key now" in output
    revoked = only_event(key, "signingkey.revoked")
    assert revoked.actor is None and revoked.source == "command"
    assert revoked.changes == {"status": ["active", "revoked"]}
    assert revoked.extra == {"reason": "The backup tape was lost"}

    with pytest.raises(DomainError, match="No active signing key; an admin must run create_signing_key"):
        sign_company(waiting, people.signatory)
    assert reload(waiting).status == S.APPROVED
    assert not waiting.signatures.exists()
    assert actions(waiting) == before

    # Signatures made before the revocation are valid as of their time.
    assert all(signature_check(s).valid for s in signed.signatures.select_related("key", "contract__customer"))
    assert "Verified 2 signature(s)" in run("verify_signatures")

    # A new key makes signing possible again; the revoked one is never used.
    run("create_signing_key")
    assert sign_company(waiting, people.signatory).key.status == SigningKeyStatus.ACTIVE


def test_revoking_a_retired_key_keeps_the_active_one(key_dir, people):
    run("create_signing_key")
    old = SigningKey.objects.get()
    run("rotate_signing_key")

    output = run("revoke_signing_key", old.key_id, "--reason", "Compromised laptop")

    old.refresh_from_db()
    assert old.status == SigningKeyStatus.REVOKED
    assert only_event(old, "signingkey.revoked").changes == {"status": ["retired", "revoked"]}
    assert "no active key" not in output
    assert sign_company(approved(people), people.signatory).key.status == SigningKeyStatus.ACTIVE


def test_revoke_requires_a_reason(key_dir):
    run("create_signing_key")
    key = SigningKey.objects.get()

    with pytest.raises(CommandError, match="--reason"):
        run("revoke_signing_key", key.key_id)
    with pytest.raises(CommandError, match="Say why the key is revoked"):
        run("revoke_signing_key", key.key_id, "--reason", "   ")

    key.refresh_from_db()
    assert key.status == SigningKeyStatus.ACTIVE
    assert not key_events(key, "signingkey.revoked").exists()


def test_revoke_an_unknown_or_revoked_key_is_refused(key_dir):
    run("create_signing_key")
    key = SigningKey.objects.get()

    with pytest.raises(CommandError, match="No signing key sha256:0000"):
        run("revoke_signing_key", "sha256:" + "0" * 64, "--reason", "typo")
    run("revoke_signing_key", key.key_id, "--reason", "leaked")
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke_signing_key", key.key_id, "--reason", "again")

    assert len(key_events(key, "signingkey.revoked")) == 1


def test_a_signature_dated_after_its_keys_revocation_is_reported(people):
    contract = approved(people)
    signature = sign_company(contract, people.signatory)
    # As if the key had been revoked before this signature was made.
    SigningKey.objects.filter(pk=signature.key_id).update(
        status=SigningKeyStatus.REVOKED, revoked_at=signature.signed_at, revocation_reason="leaked"
    )

    check = signature_check(ContractSignature.objects.select_related("key", "contract__customer").get())

    assert not check.valid
    assert check.cryptographically_valid
    assert any("revoked before this signature was made" in problem for problem in check.problems)


def test_the_in_memory_backend_replaces_a_revoked_key_with_a_fresh_one(people, admin_user):
    first = sign_company(approved(people), people.signatory)
    signing_key_revoke(actor=admin_user, key_id=first.key.key_id, reason="test")

    second = sign_company(approved(people), people.signatory)

    assert second.key != first.key
    assert second.key.status == SigningKeyStatus.ACTIVE
    assert only_event(first.key, "signingkey.revoked").actor == admin_user
    only_event(second.key, "signingkey.created")
    assert signature_check(first).valid


# -- list ------------------------------------------------------------------------------


def test_list_signing_keys_shows_every_key_with_its_signatures(key_dir, people):
    assert "No signing keys yet" in run("list_signing_keys")
    run("create_signing_key")
    old = SigningKey.objects.get()
    sign_both(approved(people), people)
    run("rotate_signing_key")
    new = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    sign_company(approved(people), people.signatory)
    run("revoke_signing_key", old.key_id, "--reason", "leaked")

    lines = run("list_signing_keys").splitlines()

    assert lines[0].split() == [
        "KEY",
        "ID",
        "BACKEND",
        "STATUS",
        "CREATED",
        "ACTIVATED",
        "RETIRED",
        "REVOKED",
        "SIGNATURES",
    ]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(rows) == {old.key_id, new.key_id}
    assert rows[old.key_id][1:3] == ["default", "revoked"]
    assert rows[old.key_id][-1] == "2"
    assert rows[new.key_id][1:3] == ["default", "active"]
    assert rows[new.key_id][-1] == "1"
    assert "-" in rows[new.key_id]  # neither retired nor revoked
    assert lines[-1] == "2 key(s)."
    assert "No signing keys" in run("list_signing_keys", "--backend", "archive")


# -- every command explains itself -------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_every_signing_command_has_help(name):
    command = load_command_class("contracts", name)
    parser = command.create_parser("manage.py", name)

    assert len(command.help) > 40
    own = [action for action in parser._actions if action.dest not in IGNORED_DESTS]
    assert own, name
    for action in own:
        assert action.help, f"{name} {action.option_strings or action.dest} has no help text"
    assert command.help.split()[0] in parser.format_help()


IGNORED_DESTS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}
