"""Telling people in the app and by e-mail: "CT-2026-000012 waits for your approval".

The kernel knows nothing of contracts or orders. A domain app decides who is told of its
steps (it subscribes its own rules to its domain events in `AppConfig.ready()`, see
`contracts/notifications.py`) and calls `notification_send` with the recipients, an
English sentence marked with `gettext_noop` and its plain values. Each recipient gets
one `Notification` row (the in-app list and the unread count in the navigation) and one
e-mail through the mail seam (`crm.core.mail.mail_send_on_commit`), in their own language
and masked for them (`masker_for(recipient)`), sent only if the step commits.

Decisions:
- Sending a notification writes no audit event: the step that caused it is audited by the
  service that took it, and a notification is a copy of that news for one reader.
- Marking read is not audited either: it is the reader's own bookkeeping, changes no
  business data, and would fill the trail with noise.
- A user never sees another user's notifications: every read and write starts from
  `recipient=user`, so another user's id answers 404.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core.exceptions import DomainError
from crm.core.mail import mail_send_on_commit
from crm.core.masking import masker_for
from crm.core.models import Notification

#: Counters of items waiting for a user's decision, registered by the apps that own them:
#: name -> function(user) -> the queryset of those items, or None when it does not apply.
_waiting_counters: dict[str, Callable[[User], QuerySet | None]] = {}
#: The unread notifications' name among the counts (a counter's name has no dot).
UNREAD = "notifications.unread"


def waiting_counter_register(name: str, counter: Callable[[User], QuerySet | None]) -> None:
    """Show the number of rows of `counter(user)` in the navigation as `waiting.<name>`
    (called in `ready()`)."""
    _waiting_counters[name] = counter


def navigation_counts(user: User) -> dict[str, Any]:
    """The navigation's numbers, counted in one query: `unread` notifications and `waiting`,
    {name: count} of each registered counter that applies to the user."""
    waiting = {name: counter(user) for name, counter in _waiting_counters.items()}
    querysets = {name: queryset for name, queryset in waiting.items() if queryset is not None}
    counts = _count_in_one_query({**querysets, UNREAD: notification_unread(user=user)})
    return {"unread": counts.pop(UNREAD), "waiting": counts}


def _count_in_one_query(querysets: dict[str, QuerySet]) -> dict[str, int]:
    """{name: number of rows} of each queryset, one scalar subquery each in one round trip
    per database (the navigation's three counts were three more queries on every page)."""
    by_database: dict[str, dict[str, QuerySet]] = {}
    for name, queryset in querysets.items():
        by_database.setdefault(queryset.db, {})[name] = queryset
    counts = {}
    for alias, named in by_database.items():
        parts, params = [], []
        for name, queryset in named.items():
            try:
                sql, subquery_params = queryset.order_by().values("pk").query.get_compiler(using=alias).as_sql()
            except EmptyResultSet:  # `.none()`, or a filter no row can pass
                counts[name] = 0
                continue
            parts.append((name, f"(SELECT COUNT(*) FROM ({sql}) AS counted)"))
            params.extend(subquery_params)
        if parts:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT " + ", ".join(part for _name, part in parts), params)
                counts.update(zip((name for name, _part in parts), cursor.fetchone(), strict=True))
    return counts


def user_language(user: User) -> str:
    """The language a user chose for their pages and e-mails, else the site's default."""
    preference = getattr(user, "preference", None)  # None also when the user has not chosen
    return (preference.language if preference else "") or settings.LANGUAGE_CODE


def _mail(notification: Notification, user: User) -> None:
    if not user.email:
        return
    masker = masker_for(user)
    with translation.override(user_language(user)):
        text = str(masker.text(notification.text))
        url = settings.SITE_URL.rstrip("/") + notification.target_url if notification.target_url else ""
        body = text + (("\n\n" + _("Open it here: %(url)s") % {"url": url}) if url else "")
        body += "\n\n" + _("You can see all your notifications in the CRM under Notifications.")
        subject = _("[CRM] %(text)s") % {"text": text}
    mail_send_on_commit(subject=subject[:200], body=body, to=[user.email])


@transaction.atomic
def notification_send(
    *,
    recipients: Iterable[User],
    sentence: str,
    params: dict[str, Any] | None = None,
    target_url: str = "",
    exclude: Iterable[int | None] = (),
) -> list[Notification]:
    """Tell each active recipient (once, whoever is in `exclude` never) in the app and by
    e-mail. Not audited: the step that caused it is (see the module's docstring)."""
    skipped = {pk for pk in exclude if pk is not None}
    users: dict[int, User] = {}
    for user in recipients:
        if user is not None and user.is_active and user.pk not in skipped:
            users.setdefault(user.pk, user)
    made = []
    for user in users.values():
        notification = Notification.objects.create(
            recipient=user, verb=sentence, params=dict(params or {}), target_url=target_url
        )
        _mail(notification, user)
        made.append(notification)
    return made


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_unread(*, user: User) -> QuerySet[Notification]:
    """The user's unread notifications."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


@transaction.atomic
def notification_mark_read(*, actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read. Not audited: the reader's bookkeeping."""
    notification = Notification.objects.select_for_update().filter(recipient=actor, pk=notification_id).first()
    if notification is None:
        raise DomainError(_("This notification does not exist."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; how many. Not audited."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())
