"""Evidence a third party checks without us: the bundle's openssl commands, the public
verify page (bundle upload, number + code) and the certificate of completion."""

import datetime
import hashlib
import io
import json
import re
import shlex
import shutil
import subprocess
import zipfile
import zoneinfo

import pytest
from django.urls import reverse

from contracts.signing.backends.memory import InMemoryBackend
from contracts.signing.evidence import verification_code
from contracts.tests.test_signing_workflow import approved, raw_sql, send_link
from contracts.tests.test_verify_signatures import FREEZE_TRIGGER, disable_trigger
from crm.core.tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]

CUSTOMER_IP = "203.0.113.7"
SIGNATORY_IP = "198.51.100.20"


@pytest.fixture
def openssl():
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("the openssl command line is not installed")
    return path


@pytest.fixture
def signed(people, client):
    """Signed through the pages: the signatory with their password, the customer through the link."""
    contract = approved(people)
    client.force_login(people.signatory)
    response = client.post(
        reverse("contracts:contract_sign", args=[contract.pk]),
        {"password": PASSWORD},
        REMOTE_ADDR=SIGNATORY_IP,
        HTTP_USER_AGENT="Signatory browser/1.0",
    )
    assert response.status_code == 302
    _link, token = send_link(contract, people.rep)
    client.logout()
    client.get(reverse("contracts:customer_sign", args=[token]))  # exchanges the token for a session
    response = client.post(
        reverse("contracts:customer_sign_page"),
        {"full_name": "Li Wei", "accepted": "on"},
        REMOTE_ADDR=CUSTOMER_IP,
        HTTP_USER_AGENT="Customer browser/2.0",
    )
    assert response.status_code == 200
    contract.refresh_from_db()
    assert contract.status == "active"
    return contract


def download(client, user, contract) -> bytes:
    client.force_login(user)
    response = client.get(reverse("contracts:contract_evidence", args=[contract.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{contract.number}-evidence.zip"'
    return response.content


def readme_commands(folder):
    """Every `openssl dgst ... -verify ...` line of the bundle's README."""
    readme = (folder / "README.txt").read_text()
    lines = [line.strip() for line in readme.splitlines()]
    return [line for line in lines if line.startswith("openssl dgst") and " -verify " in line]


def run_openssl(openssl, command, folder):
    argv = shlex.split(command)
    argv[0] = openssl
    result = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=30)
    return result.returncode, (result.stdout + result.stderr).strip()


def test_the_bundles_openssl_commands_verify_every_signature(signed, people, client, tmp_path, openssl):
    data = download(client, people.rep, signed)
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)

    commands = readme_commands(tmp_path)

    assert len(commands) == 2
    for command in commands:
        code, output = run_openssl(openssl, command, tmp_path)
        assert code == 0 and output == "Verified OK", f"{command}: {output}"

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["contract"] == signed.number
    assert manifest["verification_code"] == verification_code(list(signed.signatures.all()))
    assert [entry["party"] for entry in manifest["signatures"]] == ["company", "customer"]
    for entry, signature in zip(manifest["signatures"], signed.signatures.all(), strict=True):
        assert (tmp_path / entry["statement"]).read_bytes() == bytes(signature.statement)
        assert (tmp_path / entry["signature"]).read_bytes() == bytes(signature.signature)
        assert (tmp_path / entry["public_key"]).read_text() == signature.key.public_key_pem
        assert entry["key_id"] == signature.key.key_id
    trail = json.loads((tmp_path / "audit-trail.json").read_text())
    assert [event["action"] for event in trail].count("contract.signed") == 2
    assert trail[-1]["action"] == "contract.activated"


def test_the_key_id_is_the_sha256_of_the_public_key_der(signed, people, client, tmp_path, openssl):
    zipfile.ZipFile(io.BytesIO(download(client, people.rep, signed))).extractall(tmp_path)
    entry = json.loads((tmp_path / "manifest.json").read_text())["signatures"][0]

    der = subprocess.run(
        [openssl, "pkey", "-pubin", "-in", entry["public_key"], "-outform", "DER"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    ).stdout
    digest = subprocess.run([openssl, "dgst", "-sha256", "-r"], input=der, capture_output=True, check=True).stdout

    assert entry["key_id"] == "sha256:" + digest.split()[0].decode()


def test_openssl_refuses_a_statement_changed_by_one_byte(signed, people, client, tmp_path, openssl):
    zipfile.ZipFile(io.BytesIO(download(client, people.rep, signed))).extractall(tmp_path)
    command = readme_commands(tmp_path)[0]
    statement = tmp_path / re.search(r"(statement-\S+\.json)", command).group(1)
    data = bytearray(statement.read_bytes())
    data[data.index(b'"amount":"') + len(b'"amount":"')] ^= 0x01  # 50000.00 -> 40000.00

    statement.write_bytes(bytes(data))
    code, output = run_openssl(openssl, command, tmp_path)

    assert code != 0
    assert "Verified OK" not in output
    assert "Verification failure" in output
    # The other signature is untouched and still verifies.
    assert run_openssl(openssl, readme_commands(tmp_path)[1], tmp_path) == (0, "Verified OK")


def test_no_evidence_before_anything_is_signed(people, client):
    contract = approved(people)
    client.force_login(people.rep)
    assert client.get(reverse("contracts:contract_evidence", args=[contract.pk])).status_code == 404


# -- the public verification page ------------------------------------------------------


def rezip(data: bytes, change, added=None) -> bytes:
    """The bundle with `change(name, content) -> content` applied to each member, plus `added` files."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            target.writestr(name, change(name, source.read(name)))
        for name, content in (added or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


def upload(client, data: bytes, name="evidence.zip"):
    bundle = io.BytesIO(data)
    bundle.name = name
    return client.post(reverse("contracts:verify"), {"bundle": bundle})


def test_a_genuine_bundle_matches_our_records(signed, people, client):
    data = download(client, people.rep, signed)
    client.logout()

    response = upload(client, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Evidence bundle for {signed.number}" in page
    assert page.count("matches our records") == 2
    assert page.count("signature valid") == 2
    assert "INVALID" not in page and "NOT in our records" not in page
    assert "<strong>Valid</strong>" in re.search(r'data-testid="verdict"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert signed.customer.name in re.search(r'data-testid="signed-terms">(.*?)</dl>', page, re.S).group(1)


def test_a_tampered_bundle_is_flagged(signed, people, client):
    data = download(client, people.rep, signed)
    client.logout()

    def change(name, content):
        if name.startswith("statement-1-"):
            return content.replace(b"50000.00", b"5000.00")
        return content

    page = upload(client, rezip(data, change)).content.decode()

    assert page.count("signature INVALID") == 1
    assert page.count("NOT in our records") == 1
    assert page.count("matches our records") == 1  # the customer's signature is untouched
    assert "<strong>Invalid</strong>" in re.search(r'data-testid="verdict"[^>]*>(.*?)</div>', page, re.S).group(1)


def test_a_bundle_signed_with_another_key_is_not_in_our_records(signed, people, client):
    """A forger re-signs a changed statement with their own key: valid, but not ours."""
    forger = InMemoryBackend("forger", key_size=2048)
    data = download(client, people.rep, signed)
    client.logout()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    first = manifest["signatures"][0]
    forged_statement = zipfile.ZipFile(io.BytesIO(data)).read(first["statement"]).replace(b"50000.00", b"5000.00")

    first["public_key"] = "keys/forger.pem"

    def change(name, content):
        if name == first["statement"]:
            return forged_statement
        if name == first["signature"]:
            return forger.sign(forged_statement)
        if name == "manifest.json":
            return json.dumps(manifest).encode()
        return content

    page = upload(client, rezip(data, change, {"keys/forger.pem": forger.public_key_pem()})).content.decode()

    assert page.count("signature valid") == 2
    assert page.count("NOT in our records") == 1


def test_a_bundle_with_a_damaged_public_key_is_flagged_not_an_error(signed, people, client):
    data = download(client, people.rep, signed)
    client.logout()

    def change(name, content):
        return (
            b"-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n"
            if name.startswith("keys/")
            else content
        )

    response = upload(client, rezip(data, change))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("signature INVALID") == 2
    assert page.count("NOT in our records") == 2


def test_a_file_that_is_not_a_bundle_is_refused(client, db):
    page = upload(client, b"just some text", name="notes.zip").content.decode()
    assert "This is not an evidence bundle from this system." in page


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"contract": "CT-2026-000001", "signatures": [1, 2]}, "This is not an evidence bundle from this system."),
        ({"contract": "CT-2026-000001", "signatures": 7}, "This is not an evidence bundle from this system."),
        (
            {"contract": "CT-2026-000001", "signatures": [{"statement": 1, "signature": "s", "public_key": "k"}]},
            "The bundle is missing a file its manifest names.",
        ),
        (
            {"contract": "CT-2026-000001", "signatures": [{"statement": "statement.json"}]},
            "The bundle is missing a file its manifest names.",
        ),
    ],
)
def test_a_malformed_manifest_is_refused_with_a_message(client, db, manifest, message):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("manifest.json", json.dumps(manifest))

    response = upload(client, buffer.getvalue())

    assert response.status_code == 200
    assert message in response.content.decode()


def test_verification_by_number_and_code(signed, client):
    code = verification_code(list(signed.signatures.all()))

    response = client.post(reverse("contracts:verify"), {"number": signed.number.lower(), "code": code.lower()})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="verify-result"' in page
    assert signed.title in page
    assert page.count(">valid<") == 2
    assert "Li Wei" in page


def test_a_wrong_code_gives_the_error_message(signed, client):
    response = client.post(reverse("contracts:verify"), {"number": signed.number, "code": "AAAA-BBBB-CCCC-DDDD"})

    page = response.content.decode()
    assert "No signed contract has this number and verification code." in page
    assert 'data-testid="verify-result"' not in page


def test_verification_by_code_shows_a_change_after_signing(signed, client):
    code = verification_code(list(signed.signatures.all()))
    disable_trigger(FREEZE_TRIGGER)
    raw_sql("UPDATE contracts_contract SET amount = 1 WHERE id = %s", signed.pk)

    page = client.post(reverse("contracts:verify"), {"number": signed.number, "code": code}).content.decode()

    assert page.count("INVALID") == 2
    assert "Changed after signing: amount" in page


# -- the certificate of completion -------------------------------------------------------


def test_the_certificate_shows_signers_ips_hashes_keys_and_the_code(signed, people, client):
    client.force_login(people.rep)

    response = client.get(reverse("contracts:contract_certificate", args=[signed.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    company, customer = signed.signatures.order_by("signed_at", "id")
    assert company.ip == SIGNATORY_IP and customer.ip == CUSTOMER_IP
    assert company.user_agent == "Signatory browser/1.0" and customer.user_agent == "Customer browser/2.0"
    for signature in (company, customer):
        assert signature.signer_name in page
        assert signature.ip in page
        assert signature.statement_sha256 in page
        assert signature.key.key_id in page
    code = verification_code([company, customer])
    assert f'data-testid="verification-code">{code}<' in page
    assert page.count("✔") == 2
    assert reverse("contracts:verify") in page


# -- times, verdicts and terms people can read ---------------------------------------------


def test_the_certificate_names_the_zone_of_each_time_and_gives_utc(signed, people, client):
    client.force_login(people.rep)

    page = client.get(reverse("contracts:contract_certificate", args=[signed.pk])).content.decode()

    assert "Signed at (UTC)" not in page
    for signature in signed.signatures.all():
        local = signature.signed_at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
        utc = signature.signed_at.astimezone(datetime.UTC)
        assert f"{local:%Y-%m-%d %H:%M:%S} CST (UTC+08:00)" in page
        assert f"{utc:%Y-%m-%d %H:%M:%S} UTC" in page


def test_the_certificate_links_the_verification_address_and_shows_its_qr_code(signed, people, client):
    client.force_login(people.rep)
    code = verification_code(list(signed.signatures.all()))

    page = client.get(reverse("contracts:contract_certificate", args=[signed.pk])).content.decode()

    address = f"http://127.0.0.1:8000{reverse('contracts:verify')}?number={signed.number}&amp;code={code}"
    assert f'<a href="{address}"' in page
    qr = re.search(r'<svg[^>]*data-testid="verify-qr"[^>]*>.*?</svg>', page, re.S)
    assert qr, "an inline SVG QR code"
    assert "<path" in qr.group(0)
    assert "data:image" not in page and "<img" not in qr.group(0)


def test_the_verification_address_shows_the_verdict_and_the_signed_terms(signed, client):
    code = verification_code(list(signed.signatures.all()))

    page = client.get(reverse("contracts:verify"), {"number": signed.number, "code": code}).content.decode()

    verdict = re.search(r'data-testid="verdict"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "Valid" in verdict
    terms = re.search(r'data-testid="signed-terms">(.*?)</dl>', page, re.S).group(1)
    body_sha256 = hashlib.sha256(signed.body.encode()).hexdigest()
    for shown in (signed.number, "Our Company Ltd.", signed.customer.name, "50,000.00", "CNY", body_sha256):
        assert shown in terms
    assert f"{signed.start_date:%Y-%m-%d}" in terms and f"{signed.end_date:%Y-%m-%d}" in terms


def test_a_tampered_contract_gets_the_invalid_verdict_with_the_signed_terms(signed, client):
    code = verification_code(list(signed.signatures.all()))
    disable_trigger(FREEZE_TRIGGER)
    raw_sql("UPDATE contracts_contract SET amount = 1 WHERE id = %s", signed.pk)

    page = client.post(reverse("contracts:verify"), {"number": signed.number, "code": code}).content.decode()

    verdict = re.search(r'data-testid="verdict"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "Invalid" in verdict
    terms = re.search(r'data-testid="signed-terms">(.*?)</dl>', page, re.S).group(1)
    assert "50,000.00" in terms  # what was signed, not the changed row


def test_an_unknown_code_gets_the_unknown_verdict(signed, client):
    page = client.post(
        reverse("contracts:verify"), {"number": signed.number, "code": "AAAA-BBBB-CCCC-DDDD"}
    ).content.decode()

    verdict = re.search(r'data-testid="verdict"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "Unknown" in verdict
    assert 'data-testid="signed-terms"' not in page


def test_the_bundle_holds_the_body_whose_hash_the_statements_sign(signed, people, client, tmp_path, openssl):
    zipfile.ZipFile(io.BytesIO(download(client, people.rep, signed))).extractall(tmp_path)

    digest = subprocess.run(
        [openssl, "dgst", "-sha256", "-r", "body.txt"], cwd=tmp_path, capture_output=True, check=True, text=True
    ).stdout.split()[0]

    assert (tmp_path / "body.txt").read_bytes() == signed.body.encode("utf-8")
    for statement in tmp_path.glob("statement-*.json"):
        assert json.loads(statement.read_bytes())["contract"]["body_sha256"] == digest
    readme = (tmp_path / "README.txt").read_text()
    assert "openssl dgst -sha256 body.txt" in readme and "sha256sum body.txt" in readme


def test_the_certificate_has_no_inline_script(signed, people, client):
    client.force_login(people.rep)

    page = client.get(reverse("contracts:contract_certificate", args=[signed.pk])).content.decode()

    assert "onclick=" not in page and "data-print" in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
