"""The signing workflow: the company signatory signs in the app, the customer through a
one-time link; with both signatures the contract is active.

Each service locks the contract row, signs with the platform's active key, checks the
fresh signature before saving it, and writes the audit event in the same transaction.
A backend failure rolls everything back: there is never a signed state without a
signature.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus as S
from contracts.choices import SigningParty
from contracts.models import Contract, ContractSignature, SigningLink
from contracts.selectors import signing_link_by_id, signing_link_get
from contracts.signed_terms import contract_signatures_verified
from contracts.signing.base import SigningError, algorithm_parameters
from contracts.signing.keys import signing_key_for_signing
from contracts.signing.statement import statement_build
from contracts.steps import contract_locked, signing_link_usable_check, status_set
from contracts.workflow import WORKFLOW
from crm.core.audit import audit_record
from crm.core.context import current_context
from crm.core.events import event_publish
from crm.core.exceptions import DomainError, TransitionNotAllowed
from crm.core.mail import MailStatus, mail_send_on_commit
from crm.core.tokens import token_hash
from crm.core.workflow import SYSTEM

SIGNABLE = {S.APPROVED, S.SIGNING}


def _check_signable(contract: Contract, party: str) -> None:
    if contract.status not in SIGNABLE:
        raise TransitionNotAllowed(
            _("A contract that is %(status)s cannot be signed.") % {"status": contract.get_status_display().lower()}
        )
    if contract.signatures.filter(party=party).exists():
        raise TransitionNotAllowed(_("The %(party)s has already signed this contract.") % {"party": party})
    # Nobody signs (or is sent a link to sign) terms that differ from what the other party signed.
    contract_signatures_verified(contract)


def _start_signing(contract: Contract, actor: User | None) -> None:
    if contract.status == S.APPROVED:
        WORKFLOW.check(contract, "start_signing", actor=SYSTEM)
        status_set(contract, S.SIGNING, actor=actor, action="contract.signing_started")


def _sign(
    contract: Contract, *, party: str, signer: User | None, signer_name: str, signer_email: str
) -> ContractSignature:
    """Make, check and store one party's signature."""
    context = current_context()
    previous = contract.signatures.order_by("-signed_at", "-id").first()
    backend, key = signing_key_for_signing()
    signed_at = timezone.now()
    statement = statement_build(
        contract,
        party=party,
        signer_id=signer.pk if signer else None,
        signer_name=signer_name,
        signer_email=signer_email,
        signed_at=signed_at,
        key_id=key.key_id,
        previous_signature_sha256=previous.signature_sha256 if previous else "",
    )
    try:
        signed = backend.signature_for(statement)
    except SigningError as error:
        raise DomainError(_("The signing service failed; nothing was signed: %(error)s") % {"error": error}) from error
    try:
        with transaction.atomic():
            signature = ContractSignature.objects.create(
                contract=contract,
                party=party,
                signer=signer,
                signer_name=signer_name,
                signer_email=signer_email,
                statement=statement,
                statement_sha256=hashlib.sha256(statement).hexdigest(),
                signature=signed.signature,
                key=key,
                algorithm=algorithm_parameters(),
                previous_signature_sha256=previous.signature_sha256 if previous else "",
                signed_at=signed_at,
                ip=context.ip,
                user_agent=context.user_agent,
            )
    except IntegrityError:
        raise TransitionNotAllowed(_("The %(party)s has already signed this contract.") % {"party": party}) from None
    audit_record(
        actor=signer,
        actor_label="" if signer else f"{signer_name} ({SigningParty(party).label.lower()})",
        action="contract.signed",
        target=contract,
        parent=contract.customer,
        extra={
            "party": party,
            "signer": signer_name,
            "key_id": key.key_id,
            "statement_sha256": signature.statement_sha256,
        },
    )
    event_publish(
        "contract.signed", contract_id=contract.pk, party=party, signer=signer_name, signer_id=signer and signer.pk
    )
    return signature


def _activate_when_complete(contract: Contract, actor: User | None) -> None:
    parties = set(contract.signatures.values_list("party", flat=True))
    if parties >= set(SigningParty.values):
        contract.decided_at = contract.decided_at or timezone.now()
        WORKFLOW.check(contract, "activate", actor=SYSTEM)
        status_set(contract, S.ACTIVE, actor=actor, action="contract.activated")
        event_publish(
            "contract.activated", contract_id=contract.pk, customer_id=contract.customer_id, number=contract.number
        )


@transaction.atomic
def contract_sign_company(*, actor: User, contract_id: int, password: str) -> ContractSignature:
    """The company signatory signs, confirming with their password."""
    if not actor.has_perm("contracts.sign_contract"):
        raise TransitionNotAllowed(_("Only a signatory signs for the company."))
    if not actor.check_password(password or ""):
        raise DomainError(_("The password is not correct."), field="password")
    contract = contract_locked(actor, contract_id)
    _check_signable(contract, SigningParty.COMPANY)
    WORKFLOW.check(contract, "sign", actor=actor)
    _start_signing(contract, actor)
    name = actor.get_full_name() or actor.get_username()
    signature = _sign(contract, party=SigningParty.COMPANY, signer=actor, signer_name=name, signer_email=actor.email)
    _activate_when_complete(contract, actor)
    return signature


@transaction.atomic
def signing_link_send(
    *, actor: User, contract_id: int, email: str = "", send_email: bool = True
) -> tuple[SigningLink, str]:
    """E-mail the customer a one-time link (replacing any earlier one); returns it and its URL.

    The e-mail leaves after commit; whether it reached the mail server is recorded on the
    link (`mail_status`). `send_email=False` makes the link without mailing it (the demo
    data, whose addresses are invented)."""
    contract = contract_locked(actor, contract_id, "change")
    _check_signable(contract, SigningParty.CUSTOMER)
    WORKFLOW.check(contract, "send_signing_link", actor=actor)
    email = (email or contract.customer.email).strip()
    if not email:
        raise DomainError(_("Give the e-mail address the link goes to."), field="email")
    now = timezone.now()
    replaced = SigningLink.objects.filter(contract=contract, used_at__isnull=True, revoked_at__isnull=True)
    replaced_count = replaced.update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    link = SigningLink.objects.create(
        contract=contract,
        token_sha256=token_hash(token),
        email=email,
        created_by=actor,
        expires_at=now + datetime.timedelta(days=settings.SIGNING_LINK_DAYS),
    )
    _start_signing(contract, actor)
    url = settings.SITE_URL.rstrip("/") + reverse("contracts:customer_sign", args=[token])
    audit_record(
        actor=actor,
        action="contract.signing_link_sent",
        target=contract,
        parent=contract.customer,
        extra={"email": email, "expires_at": link.expires_at, "replaced_links": replaced_count},
    )
    subject = _("Please review and sign contract %(number)s") % {"number": contract.number}
    body = _(
        "%(company)s asks you to review and accept contract %(number)s (%(title)s).\n\n"
        "Open this link to read it and sign: %(url)s\n\nThe link works once and expires on %(expires)s."
    ) % {
        "company": settings.COMPANY_NAME,
        "number": contract.number,
        "title": contract.title,
        "url": url,
        "expires": timezone.localtime(link.expires_at).strftime("%Y-%m-%d %H:%M"),
    }
    if send_email:
        mail_send_on_commit(
            subject=subject, body=body, to=[email], on_result=signing_link_mail_record, on_result_args=(link.pk,)
        )
    return link, url


@transaction.atomic
@transaction.atomic
def signing_link_mail_record(link_id: int, error: str) -> None:
    """Record whether the link's e-mail reached the mail server; a failure is audited,
    so the contract's history says why the customer never got it."""
    link = SigningLink.objects.select_for_update().select_related("contract__customer").get(pk=link_id)
    link.mail_status = MailStatus.FAILED if error else MailStatus.SENT
    link.mail_error = error
    link.mail_attempted_at = timezone.now()
    link.save(update_fields=["mail_status", "mail_error", "mail_attempted_at"])
    if error:
        audit_record(
            actor=None,
            actor_label="mail",
            action="contract.signing_link_not_delivered",
            target=link.contract,
            parent=link.contract.customer,
            extra={"email": link.email, "error": error},
        )


@transaction.atomic
def signing_link_revoke(*, actor: User, contract_id: int, link_id: int) -> SigningLink:
    link = SigningLink.objects.select_for_update().filter(pk=link_id, contract_id=contract_id).first()
    if link is None or not Contract.objects.visible_to(actor, "change").filter(pk=link.contract_id).exists():
        raise DomainError(_("This link does not exist or you may not revoke it."))
    if not link.is_usable():
        raise DomainError(_("This link is already used, revoked or expired."))
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="contract.signing_link_revoked",
        target=link.contract,
        parent=link.contract.customer,
        extra={"email": link.email},
    )
    return link


@transaction.atomic
def contract_sign_customer(
    *, full_name: str, accepted: bool, token: str | None = None, link_id: int | None = None
) -> ContractSignature:
    """The customer accepts through the one-time link (by its token, or by the id of the
    link whose token was exchanged for a session); the platform key signs the acceptance."""
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise DomainError(_("Type your full name."), field="full_name")
    if not accepted:
        raise DomainError(_("Tick the box to accept the contract."), field="accepted")
    link = signing_link_get(token) if link_id is None else signing_link_by_id(link_id)
    # The contract first, then its link: the order signing_link_send locks them in, so a
    # link sent again while the customer signs waits instead of deadlocking.
    contract = contract_locked(None, link.contract_id)
    link = SigningLink.objects.select_for_update().get(pk=link.pk)
    signing_link_usable_check(link)
    _check_signable(contract, SigningParty.CUSTOMER)
    _start_signing(contract, None)
    signature = _sign(
        contract, party=SigningParty.CUSTOMER, signer=None, signer_name=full_name, signer_email=link.email
    )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    _activate_when_complete(contract, None)
    return signature
