"""Every write of the API app: tokens (created, revoked, touched) and idempotent answers
(kept, and purged once past API_IDEMPOTENCY_HOURS)."""

import datetime
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.api.exceptions import IdempotencyConflict
from crm.api.models import ApiToken, IdempotentRequest, TokenScope
from crm.api.tokens import TOKEN_PREFIX, request_fingerprint
from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.core.tokens import token_hash


@transaction.atomic
def token_create(
    *,
    actor: User,
    name: str,
    scopes: list[str],
    expires_at: datetime.datetime | None,
    user: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user` (the actor's own unless an admin names another); returns the
    token and its secret, which is shown once and never stored."""
    owner = user if user is not None else actor
    if owner.pk != actor.pk and not actor.has_perm("api.add_apitoken"):
        raise DomainError(_("You may create tokens only for yourself."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the token a name."), field="name")
    scopes = sorted(set(scopes or []))
    if not scopes or not set(scopes) <= set(TokenScope.values):
        raise DomainError(_("Choose what the token may do."), field="scopes")
    if TokenScope.WRITE in scopes and TokenScope.READ not in scopes:
        scopes = sorted([*scopes, TokenScope.READ])
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(_("The expiry must lie in the future."), field="expires_at")
    if ApiToken.objects.filter(user=owner, name=name, revoked_at__isnull=True).exists():
        raise DomainError(_("You already have a token with this name."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=owner,
        name=name[:100],
        prefix=secret[:12],
        secret_hash=token_hash(secret),
        scopes=scopes,
        expires_at=expires_at,
    )
    try:
        with transaction.atomic():
            token.save(force_insert=True)
    except IntegrityError as error:
        raise DomainError(_("You already have a token with this name."), field="name") from error
    audit_record(
        actor=actor,
        action="api_token.created",
        target=token,
        extra={"name": token.name, "scopes": scopes, "expires_at": expires_at, "user": owner.get_username()},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor: User, token_id: int) -> ApiToken:
    """Revoke a token: its own user may, and an admin with the change permission."""
    tokens = ApiToken.objects.select_for_update()
    if not actor.has_perm("api.change_apitoken"):
        tokens = tokens.filter(user=actor)
    token = tokens.filter(pk=token_id).first()
    if token is None:
        raise DomainError(_("This token does not exist or you may not revoke it."))
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="api_token.revoked", target=token, extra={"name": token.name})
    return token


@transaction.atomic
def token_used(*, token: ApiToken, now: datetime.datetime | None = None) -> None:
    """Note when a token was last used, at most once a minute (not audited: every call
    it authenticates is in the log, and the calls that change something in the trail)."""
    now = now or timezone.now()
    if token.last_use_is_current(now):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


@transaction.atomic
def idempotent_call(
    *,
    user: User,
    key: str,
    method: str,
    path: str,
    body: bytes,
    call: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Answer a creating request once per (user, key): the first call runs `call()` and keeps
    its answer if it succeeded; a retry with the same request gets that answer back
    (`replayed` True); the same key with another request is refused.

    The key's row is inserted before the work and committed with it, so a retry sent while
    the first is still running waits for it (the unique index) and then gets its answer."""
    fingerprint = request_fingerprint(method=method, path=path, body=body)
    horizon = timezone.now() - datetime.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=horizon).delete()
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                user=user, key=key[:255], method=method, path=path[:500], request_hash=fingerprint
            )
    except IntegrityError:
        record = IdempotentRequest.objects.get(user=user, key=key[:255])
        if record.request_hash != fingerprint:
            raise IdempotencyConflict(
                _("This Idempotency-Key was used for another request; send a new key for a new request.")
            ) from None
        return record.status_code, record.response, True
    status, data = call()
    if 200 <= status < 300:
        record.status_code, record.response = status, data
        record.save(update_fields=["status_code", "response"])
    else:
        record.delete()  # a refused request may be corrected and sent again with the same key
    return status, data, False


@transaction.atomic
def idempotency_keys_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the kept answers older than API_IDEMPOTENCY_HOURS, which no retry gets back any
    more (`idempotent_call` treats such a key as new); returns how many. The scheduled job
    `purge_idempotency_keys` runs it hourly, so the table holds about a day of creating POSTs."""
    horizon = (now or timezone.now()) - datetime.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=horizon).delete()
    return deleted
