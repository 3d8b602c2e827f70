import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from contracts.models import Contract, ContractSignature, SigningKey
from contracts.signing.statement import signature_check
from crm.core.commands import CrmCommand

SHOWN = 20  # contract numbers named in the error line; every one is printed above it


def _signed_number(check) -> str:
    """The contract number the statement was signed over, when it still parses."""
    try:
        return json.loads(bytes(check.signature.statement))["contract"]["number"]
    except (ValueError, KeyError, TypeError):
        return ""


def _describe(contract, checks) -> str:
    """One line per failing contract: `CT-2026-000003: changed after signing: amount, body`."""
    changed, problems = [], []
    for check in checks:
        changed += [name for name in check.changed_fields if name not in changed]
        party = check.signature.get_party_display().lower()
        problems += [f"{party} signature: {problem}" for problem in check.problems]
        if not check.cryptographically_valid and not check.problems:
            problems.append(f"{party} signature: the signature is not valid")
    parts = []
    if changed:
        parts.append("changed after signing: " + ", ".join(changed))
    parts += problems
    label = contract.number
    signed_as = {_signed_number(check) for check in checks} - {"", contract.number}
    if "number" in changed and signed_as:
        label += f" (signed as {', '.join(sorted(signed_as))})"
    return f"{label}: {'; '.join(parts)}"


class Command(CrmCommand):
    help = (
        "Check every signature of every signed contract: the signature over its stored statement with "
        "the stored public key, and the statement against the contract as the database holds it now. "
        "Prints each contract that fails with what changed, and exits non-zero when any fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contract", metavar="NUMBER", help="Check only the contract with this number.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=1000,
            help="Signatures read per query (default 1000).",
        )

    def run(self, *, contract, chunk_size, **options):
        if chunk_size < 1:
            raise CommandError(_("--chunk-size must be at least 1."))
        # Keys are few and shared by many signatures: read once, not joined into every row.
        keys = {key.pk: key for key in SigningKey.objects.all()}
        signatures = ContractSignature.objects.select_related("contract", "contract__customer")
        if contract:
            number = contract.strip().upper()
            if not Contract.objects.filter(number=number).exists():
                raise CommandError(_("No contract %(number)s.") % {"number": number})
            signatures = signatures.filter(contract__number=number)
            if not signatures.exists():
                raise CommandError(_("Contract %(number)s has no signatures.") % {"number": number})
        total = signatures.count()
        failed: dict[int, tuple[Contract, list]] = {}
        verified = 0
        contracts = set()
        last_pk = 0
        with self.progress(total, "Verifying signatures") as bar:
            while True:
                # Keyset pagination: each chunk is one query, however many rows there are.
                chunk = list(signatures.filter(pk__gt=last_pk).order_by("pk")[:chunk_size])
                if not chunk:
                    break
                for signature in chunk:
                    if signature.key_id not in keys:  # made with a key created during this run
                        keys[signature.key_id] = SigningKey.objects.get(pk=signature.key_id)
                    signature.key = keys[signature.key_id]
                    check = signature_check(signature)
                    verified += 1
                    contracts.add(signature.contract_id)
                    if not check.valid:
                        failed.setdefault(signature.contract_id, (signature.contract, []))[1].append(check)
                bar.update(len(chunk))
                last_pk = chunk[-1].pk
        if failed:
            entries = sorted(failed.values(), key=lambda entry: entry[0].number)
            for failed_contract, checks in entries:
                self.stdout.write(self.style.ERROR(_describe(failed_contract, checks)))
            numbers = ", ".join(entry[0].number for entry in entries[:SHOWN])
            if len(entries) > SHOWN:
                numbers += _(" and %(count)s more") % {"count": len(entries) - SHOWN}
            raise CommandError(
                _("%(count)s signed contract(s) failed verification: %(numbers)s.")
                % {"count": len(entries), "numbers": numbers}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Verified %(signatures)s signature(s) of %(contracts)s contract(s); all valid.")
                % {"signatures": verified, "contracts": len(contracts)}
            )
        )
