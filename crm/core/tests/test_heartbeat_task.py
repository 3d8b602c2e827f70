"""The scheduled heartbeat task is what /health/ reads as the worker's sign of life."""

import pytest
from django.urls import reverse

from crm.core.models import WorkerHeartbeat
from crm.core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_the_heartbeat_runs_every_minute_and_records_the_worker(client, settings):
    assert settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"] == {"task": "crm.core.tasks.heartbeat", "schedule": 60.0}
    assert not WorkerHeartbeat.objects.exists()
    heartbeat.apply()
    assert WorkerHeartbeat.objects.count() == 1

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"  # a broker of its own: the heartbeat counts
    answer = client.get(reverse("health"))
    assert answer.json()["components"]["worker"] == "ok"
