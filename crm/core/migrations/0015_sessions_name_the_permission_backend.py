"""Sessions signed in before crm.core.auth.PermissionBackend took the place of Django's
ModelBackend name the old backend, and Django signs out a session whose backend is no
longer configured: they are made to name the new one, so nobody is signed out by the upgrade."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations

DJANGO_BACKEND = "django.contrib.auth.backends.ModelBackend"
PERMISSION_BACKEND = "crm.core.auth.PermissionBackend"


def rename_backend(apps, old: str, new: str) -> None:
    sessions = apps.get_model("sessions", "Session").objects
    store = SessionStore()
    changed = []
    for session in sessions.iterator(chunk_size=1000):
        data = store.decode(session.session_data)
        if data.get(BACKEND_SESSION_KEY) == old:
            data[BACKEND_SESSION_KEY] = new
            session.session_data = store.encode(data)
            changed.append(session)
        if len(changed) == 1000:
            sessions.bulk_update(changed, ["session_data"])
            changed = []
    sessions.bulk_update(changed, ["session_data"])


def sessions_name_the_permission_backend(apps, schema_editor):
    rename_backend(apps, DJANGO_BACKEND, PERMISSION_BACKEND)


def sessions_name_the_django_backend(apps, schema_editor):
    rename_backend(apps, PERMISSION_BACKEND, DJANGO_BACKEND)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0014_search_grams_sorted_by_tsvector"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(sessions_name_the_permission_backend, sessions_name_the_django_backend)]
