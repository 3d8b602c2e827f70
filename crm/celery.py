"""The Celery app: configured from Django settings (the `CELERY_` names), finding each
app's `tasks.py`. Run a worker with `celery -A crm worker`, the scheduler with
`celery -A crm beat` (or everything at once with `manage.py serve_all`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
