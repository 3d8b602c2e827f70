from axes.signals import user_locked_out
from django.apps import apps
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def sync_roles_after_migrate(sender, app_config=None, **kwargs):
    """Keep the role groups in step with the code after every migrate (framework glue)."""
    last_app = list(apps.get_app_configs())[-1]
    if app_config is None or app_config.label != last_app.label:
        return  # permissions of later apps do not exist yet
    from crm.core.roles import roles_sync

    roles_sync()


@receiver(user_locked_out)
def audit_user_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    """Record a lockout in the audit trail (framework glue: axes knows when it happens).

    axes sends the signal again on every refused attempt while locked; only the attempt
    that reached the limit starts a lockout worth an event."""
    from django.conf import settings

    from crm.core.services import login_lockout_record

    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return
    login_lockout_record(username=username or "", ip_address=ip_address)


@receiver(user_logged_in)
def apply_language_at_login(sender, request=None, user=None, **kwargs):
    """Copy the user's kept language into the new session (framework glue): from the next
    page on, UserLanguageMiddleware applies it without a query."""
    from crm.core.middleware import LANGUAGE_SESSION_KEY
    from crm.core.models import UserPreference

    if request is None or not hasattr(request, "session"):
        return
    language = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    if language:
        request.session[LANGUAGE_SESSION_KEY] = language


@receiver(post_migrate)
def schedule_ensure_after_migrate(sender, app_config=None, **kwargs):
    """Create the default schedule of each scheduled job that has none yet (framework glue:
    the PeriodicTask table exists only after django_celery_beat's migrations)."""
    if app_config is None or app_config.label != "core":
        return
    from django.db import connections

    from crm.core.jobs import schedule_ensure

    if "django_celery_beat_periodictask" not in connections[kwargs.get("using", "default")].introspection.table_names():
        return  # a partial migrate

    schedule_ensure()
