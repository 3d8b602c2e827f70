"""/health/: the database, the broker, the worker's last heartbeat and the signing backend,
as JSON per component, 503 when one is down; anonymous callers see only ok/down."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from crm.core.health import worker_heartbeat_record
from crm.core.models import WorkerHeartbeat

# A port nothing listens on: the connection is refused at once.
UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:1//"


@pytest.mark.django_db
def test_without_a_broker_health_is_ok_and_says_embedded(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"  # the embedded default
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"database": "ok", "broker": "embedded", "worker": "embedded", "signing": "ok"},
    }


@pytest.mark.django_db
def test_an_unreachable_broker_answers_503_and_names_it(client, settings):
    settings.CELERY_BROKER_URL = UNREACHABLE_BROKER
    worker_heartbeat_record(worker="celery@web1")
    response = client.get(reverse("health"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"] == {"database": "ok", "broker": "down", "worker": "ok", "signing": "ok"}
    assert "details" not in body


@pytest.mark.django_db
def test_with_a_broker_a_fresh_heartbeat_is_ok_and_a_stale_one_is_down(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    settings.HEALTH_HEARTBEAT_MAX_AGE_MINUTES = 5

    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["components"]["worker"] == "down"

    worker_heartbeat_record(worker="celery@worker1")
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["components"] == {"database": "ok", "broker": "ok", "worker": "ok", "signing": "ok"}

    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=6))
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["components"]["worker"] == "down"


@pytest.mark.django_db
def test_without_a_broker_a_stale_heartbeat_is_not_down(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"  # the embedded default
    worker_heartbeat_record(worker="embedded")
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(days=1))
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["components"]["worker"] == "embedded"


@pytest.mark.django_db
def test_the_heartbeat_keeps_one_row_per_worker():
    first = worker_heartbeat_record(worker="celery@a")
    again = worker_heartbeat_record(worker="celery@a")
    worker_heartbeat_record(worker="celery@b")
    assert again.pk == first.pk and again.beat_at >= first.beat_at
    assert WorkerHeartbeat.objects.count() == 2


@pytest.mark.django_db
def test_a_signing_backend_that_cannot_load_is_down(client, settings):
    settings.AUDIT_CHECKPOINT_SIGNER = "contracts.signing.nowhere.Signer"
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["components"]["signing"] == "down"
    assert "nowhere" not in response.content.decode()


@pytest.mark.django_db
def test_staff_see_the_key_id_and_the_last_heartbeat(client, admin_user, rep):
    worker_heartbeat_record(worker="celery@a")
    client.force_login(admin_user)
    details = client.get(reverse("health")).json()["details"]
    assert details["signing"]["key_id"].startswith("sha256:")
    assert details["worker"]["last_heartbeat"]
    client.force_login(rep)
    assert "details" not in client.get(reverse("health")).json()


def test_an_unreachable_database_answers_503_not_500():
    """A separate process whose database is a closed port: the page still answers, 503."""
    code = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get('/health/')\n"
        "print(response.status_code, json.dumps(response.json(), sort_keys=True))\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "CRM_TEST_BROKER": "filesystem",  # the embedded broker, whatever runs on this machine
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
        "DATABASE_CONNECT_TIMEOUT": "2",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    body = json.loads(body)
    assert body["status"] == "down"
    assert body["components"]["database"] == "down"
    assert body["components"]["broker"] == "embedded"
    assert "details" not in body
