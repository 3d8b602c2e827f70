"""Evidence a third party can check without this application: a zip of the exact signed
statements, the signatures, the public keys, the contract's audit trail, and a README
with the openssl commands that verify each signature."""

import base64
import hashlib
import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from contracts.signing.base import SALT_LENGTH, SigningError, verify

OPENSSL_VERIFY = (
    "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:{salt} "
    "-sigopt rsa_mgf1_md:sha256 -verify {key} -signature {signature} {statement}"
)


def verification_code(signatures) -> str:
    """A short code printed on the certificate: it names this exact set of signatures."""
    digest = hashlib.sha256("".join(signature.signature_sha256 for signature in signatures).encode()).digest()
    code = base64.b32encode(digest[:10]).decode()
    return "-".join(code[index : index + 4] for index in range(0, 16, 4))


def _key_file(key_id: str) -> str:
    return f"keys/{key_id.replace('sha256:', '')[:16]}.pem"


def evidence_bundle(contract, signatures, audit_events) -> bytes:
    """The zip file's bytes."""
    buffer = io.BytesIO()
    manifest = {
        "contract": contract.number,
        "verification_code": verification_code(signatures),
        "body": "body.txt",
        "signatures": [],
    }
    commands = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for index, signature in enumerate(signatures, start=1):
            stem = f"{index}-{signature.party}"
            statement_file, signature_file = f"statement-{stem}.json", f"signature-{stem}.bin"
            key_file = _key_file(signature.key.key_id)
            bundle.writestr(statement_file, bytes(signature.statement))
            bundle.writestr(signature_file, bytes(signature.signature))
            if key_file not in bundle.namelist():
                bundle.writestr(key_file, signature.key.public_key_pem)
            manifest["signatures"].append(
                {
                    "party": signature.party,
                    "signer": signature.signer_name,
                    "signed_at": signature.signed_at.isoformat(),
                    "statement": statement_file,
                    "statement_sha256": signature.statement_sha256,
                    "signature": signature_file,
                    "key_id": signature.key.key_id,
                    "public_key": key_file,
                    "algorithm": signature.algorithm,
                }
            )
            command = OPENSSL_VERIFY.format(
                salt=SALT_LENGTH, key=key_file, signature=signature_file, statement=statement_file
            )
            commands.append(f"# {signature.get_party_display()}: {signature.signer_name}\n{command}")
        # The exact bytes whose SHA-256 each statement names as body_sha256.
        bundle.writestr("body.txt", contract.body.encode("utf-8"))
        bundle.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        trail = [
            {
                "seq": event.seq,
                "occurred_at": event.occurred_at,
                "action": event.action,
                "actor": event.actor_repr,
                "source": event.source,
                "ip": event.ip,
                "changes": event.changes,
                "extra": event.extra,
                # seq, hash and prev_hash stay null until the sealer has chained the event.
                "payload_hash": event.payload_hash,
                "hash": event.hash,
                "prev_hash": event.prev_hash,
            }
            for event in audit_events
        ]
        bundle.writestr("audit-trail.json", json.dumps(trail, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder))
        bundle.writestr("README.txt", _readme(contract, commands))
    return buffer.getvalue()


def _readme(contract, commands) -> str:
    """The bundle's instructions, in the language of whoever downloads it."""
    title = _("Evidence for contract %(number)s") % {"number": contract.number}
    return (
        f"{title}\n{'=' * len(title)}\n\n"
        + _(
            "Each signature is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt over the exact\n"
            "bytes of its statement file (RFC 8785 canonical JSON). The statement names the contract's\n"
            "terms (the body by its SHA-256), the signer, the role, the time, the key id and the hash\n"
            "of the previous signature. Key id = sha256: + SHA-256 of the public key's DER\n"
            "SubjectPublicKeyInfo:"
        )
        + "  openssl pkey -pubin -in KEY.pem -outform DER | sha256sum\n\n"
        + _("Unzip this file, then run in its folder (each prints 'Verified OK'):")
        + "\n\n"
        + "\n\n".join(commands)
        + "\n\n"
        + _(
            "body.txt is the contract's body, the exact UTF-8 bytes whose SHA-256 each statement names\n"
            'as "body_sha256". Check it with either of:'
        )
        + "\n\nopenssl dgst -sha256 body.txt\nsha256sum body.txt\n\n"
        + _(
            "manifest.json lists every file; audit-trail.json is the contract's history, each event\n"
            "carrying the hash of the one before it."
        )
        + "\n"
    )


class BundleRefused(ValueError):
    """An upload that is not a bundle this page reads; the message says why."""


def _not_a_bundle() -> str:
    return _("This is not an evidence bundle from this system.")


_CHUNK = 64 * 1024


def bundle_members(data: bytes, *, max_members: int, max_unpacked_bytes: int) -> dict[str, bytes]:
    """Unpack an uploaded bundle once: {member name: bytes}.

    Refuses more than `max_members` members, and stops reading as soon as the unpacked
    bytes pass `max_unpacked_bytes` — counted while decompressing, not taken from the
    headers, which a zip bomb may fill with any sizes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise BundleRefused(_not_a_bundle()) from error
    if len(infos) > max_members:
        raise BundleRefused(
            _("The bundle holds more than %(count)s files; an evidence bundle holds far fewer.")
            % {"count": max_members}
        )
    too_large = BundleRefused(
        _("Unpacked, the bundle would be larger than %(size)s; an evidence bundle is much smaller.")
        % {"size": _size(max_unpacked_bytes)}
    )
    members, unpacked = {}, 0
    for info in infos:
        if info.is_dir():
            continue
        if unpacked + info.file_size > max_unpacked_bytes:  # an honest header says so at once
            raise too_large
        chunks = []
        try:
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    unpacked += len(chunk)
                    if unpacked > max_unpacked_bytes:
                        raise too_large
                    chunks.append(chunk)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError, EOFError) as error:
            if error is too_large:
                raise
            raise BundleRefused(_not_a_bundle()) from error  # damaged, encrypted or lying about its sizes
        members[info.filename] = b"".join(chunks)
    return members


def _size(count: int) -> str:
    return str(filesizeformat(count)).replace("\xa0", " ")


def bundle_manifest(members: dict[str, bytes]) -> dict:
    """The bundle's manifest, checked for shape; BundleRefused when it has none that works."""
    try:
        manifest = json.loads(members["manifest.json"])
        entries = manifest["signatures"]
        if not isinstance(manifest["contract"], str):
            raise ValueError("the manifest names no contract")
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise ValueError("the manifest lists no signatures")
    except (KeyError, ValueError, TypeError) as error:
        raise BundleRefused(_not_a_bundle()) from error
    return manifest


def evidence_bundle_check(members: dict[str, bytes], manifest: dict, stored_signatures) -> list[dict]:
    """Check an unpacked bundle: each signature against its statement and public key, and
    whether this system holds the same signature. Raises BundleRefused for a malformed one."""
    known = {signature.statement_sha256: signature for signature in stored_signatures}
    results = []
    for entry in manifest["signatures"]:
        try:
            statement = members[entry["statement"]]
            signature = members[entry["signature"]]
            public_key = members[entry["public_key"]]
        except (KeyError, TypeError) as error:
            raise BundleRefused(_("The bundle is missing a file its manifest names.")) from error
        digest = hashlib.sha256(statement).hexdigest()
        stored = known.get(digest)
        try:
            signature_valid = verify(public_key, statement, signature)
        except SigningError:  # the bundle's public key is damaged or not an RSA key: not valid
            signature_valid = False
        results.append(
            {
                "party": entry.get("party", ""),
                "signer": entry.get("signer", ""),
                "signature_valid": signature_valid,
                "on_record": stored is not None
                and bytes(stored.signature) == signature
                and stored.key.public_key_pem.encode() == public_key,
            }
        )
    return results
