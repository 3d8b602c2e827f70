"""The public verification page refuses hostile uploads with a clear message, reads each
upload once, and is rate-limited per client address across server processes (the
counter lives in the database cache)."""

import io
import os
import struct
import zipfile

import pytest
from django.test import override_settings
from django.urls import reverse

from contracts.tests.test_evidence import upload

pytestmark = pytest.mark.django_db

URL = reverse("contracts:verify")


def bundle_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


MANIFEST = b'{"contract": "CT-2026-000001", "signatures": []}'


def refusal(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="bundle-result"' not in page
    return page


@override_settings(VERIFY_UPLOAD_MAX_BYTES=10_000)
def test_an_oversized_upload_is_refused_before_it_is_read(client):
    data = bundle_with({"manifest.json": MANIFEST, "padding.bin": os.urandom(200_000)})

    page = refusal(upload(client, data))

    assert 'data-testid="upload-refused"' in page
    assert "The file is larger than 9.8 KB; an evidence bundle is much smaller." in page


@override_settings(VERIFY_UPLOAD_MAX_BYTES=10_000)
def test_an_upload_slightly_over_the_limit_is_a_form_error(client):
    data = bundle_with({"manifest.json": MANIFEST, "padding.bin": os.urandom(20_000)})
    assert len(data) > 10_000

    page = refusal(upload(client, data))

    assert 'data-testid="upload-refused"' not in page
    assert "The file is larger than 9.8 KB; an evidence bundle is much smaller." in page


def test_a_bundle_with_too_many_members_is_refused(client, settings):
    count = settings.VERIFY_BUNDLE_MAX_MEMBERS
    members = {"manifest.json": MANIFEST, **{f"statement-{n}.json": b"{}" for n in range(count)}}

    page = refusal(upload(client, bundle_with(members)))

    assert f"The bundle holds more than {settings.VERIFY_BUNDLE_MAX_MEMBERS} files" in page


@override_settings(VERIFY_BUNDLE_MAX_UNCOMPRESSED_BYTES=1_000_000)
def test_a_zip_bomb_is_refused(client):
    data = bundle_with({"manifest.json": MANIFEST, "zeros.bin": bytes(3_000_000)})
    assert len(data) < 10_000  # 3 MB of zeros compress to a few KB

    page = refusal(upload(client, data))

    assert "Unpacked, the bundle would be larger than 976.6 KB" in page


def lie_about_sizes(data: bytes, size: int) -> bytes:
    """Rewrite every local and central header's uncompressed size to `size`."""
    data = bytearray(data)
    offset = 0
    while (offset := data.find(b"PK\x03\x04", offset)) != -1:
        struct.pack_into("<I", data, offset + 22, size)
        offset += 4
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        struct.pack_into("<I", data, offset + 24, size)
        offset += 4
    return bytes(data)


@override_settings(VERIFY_BUNDLE_MAX_UNCOMPRESSED_BYTES=1_000_000)
def test_a_zip_bomb_whose_headers_lie_about_its_size_is_refused(client):
    """The headers claim 100 bytes per member; reading stops at the limit (or at the lie)."""
    data = lie_about_sizes(bundle_with({"manifest.json": MANIFEST, "zeros.bin": bytes(3_000_000)}), 100)
    assert all(info.file_size == 100 for info in zipfile.ZipFile(io.BytesIO(data)).infolist())

    page = refusal(upload(client, data))

    assert "This is not an evidence bundle from this system." in page or "Unpacked, the bundle would be" in page


def test_a_file_that_is_not_a_zip_is_refused(client):
    page = refusal(upload(client, b"%PDF-1.7 not a zip at all", name="contract.pdf"))

    assert "This is not an evidence bundle from this system." in page


def test_the_upload_is_unpacked_once(client, monkeypatch):
    opened = []
    original = zipfile.ZipFile.__init__

    def counting(self, *args, **kwargs):
        opened.append(args[0] if args else kwargs.get("file"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting)
    data = bundle_with({"manifest.json": MANIFEST})
    opened.clear()

    page = upload(client, data).content.decode()

    assert 'data-testid="bundle-result"' in page
    assert len(opened) == 1


@override_settings(VERIFY_RATE_LIMIT="3/m")
def test_the_page_is_rate_limited_per_client_address(client):
    def verify(ip):
        return client.post(URL, {"number": "CT-2026-000001", "code": "AAAA-BBBB-CCCC-DDDD"}, REMOTE_ADDR=ip)

    for _attempt in range(3):
        assert verify("203.0.113.9").status_code == 200

    response = verify("203.0.113.9")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many verification attempts from your address" in page
    assert "Retry-After" in response.headers
    # The certificate's link (number and code in the address) counts the same way.
    linked = client.get(URL, {"number": "CT-2026-000001", "code": "AAAA-BBBB-CCCC-DDDD"}, REMOTE_ADDR="203.0.113.9")
    assert linked.status_code == 429
    assert client.get(URL, REMOTE_ADDR="203.0.113.9").status_code == 200  # the empty form is not a verification
    # Another address is not affected.
    assert verify("198.51.100.4").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_without_the_cache_table_the_page_still_answers(client, caplog):
    """As served (autocommit, no test transaction around the request)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE crm_cache RENAME TO crm_cache_away")
    try:
        response = client.post(URL, {"number": "CT-2026-000001", "code": "AAAA-BBBB-CCCC-DDDD"})
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE crm_cache_away RENAME TO crm_cache")

    assert response.status_code == 200
    assert "No signed contract has this number and verification code." in response.content.decode()
    assert "createcachetable" in caplog.text


@override_settings(VERIFY_UPLOAD_MAX_BYTES=10_000)
def test_csrf_is_still_checked_and_an_oversized_upload_is_refused_before_it(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    page = client.get(URL)
    token = page.cookies["csrftoken"].value
    big = io.BytesIO(bundle_with({"manifest.json": MANIFEST, "padding.bin": os.urandom(200_000)}))
    big.name = "evidence.zip"

    refused = client.post(URL, {"bundle": big})  # no token: the size is refused first, nothing was read

    assert refused.status_code == 200
    assert 'data-testid="upload-refused"' in refused.content.decode()
    without_token = client.post(URL, {"number": "CT-2026-000001", "code": "AAAA-BBBB-CCCC-DDDD"})
    assert without_token.status_code == 403
    with_token = client.post(
        URL, {"number": "CT-2026-000001", "code": "AAAA-BBBB-CCCC-DDDD", "csrfmiddlewaretoken": token}
    )
    assert with_token.status_code == 200
    assert "No signed contract has this number and verification code." in with_token.content.decode()
