"""One structured log line per request: request id, user id, method, path without its query
string, status and time, as one JSON object with LOG_FORMAT=json."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string


def json_formatter() -> logging.Formatter:
    """The formatter the settings give the console handler with LOG_FORMAT=json."""
    options = dict(settings.LOGGING["formatters"]["json"])
    return import_string(options.pop("()"))(**options)


def request_lines(caplog):
    return [record for record in caplog.records if record.name == "crm.request"]


@pytest.mark.django_db
def test_each_request_logs_one_json_line_without_its_query_string(client, rep, caplog):
    client.force_login(rep)
    with caplog.at_level(logging.INFO, logger="crm.request"):
        response = client.get(reverse("customers:customer_list") + "?q=tea&token=s3cret-token")
    assert response.status_code == 200
    [record] = request_lines(caplog)
    line = json_formatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["logger"] == "crm.request"
    assert entry["level"] == "INFO"
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["user_id"] == rep.pk
    assert entry["method"] == "GET"
    assert entry["path"] == "/customers/"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert "s3cret-token" not in line and "q=tea" not in line


@pytest.mark.django_db
def test_an_anonymous_redirect_is_logged_with_its_request_id_and_no_user(client, caplog):
    with caplog.at_level(logging.INFO, logger="crm.request"):
        response = client.get(reverse("customers:customer_list"))
    assert response.status_code == 302
    [record] = request_lines(caplog)
    entry = json.loads(json_formatter().format(record))
    assert entry["user_id"] is None
    assert entry["status"] == 302
    assert entry["request_id"] == response["X-Request-ID"]


def production_settings(code: str, **environment) -> str:
    """What `code` prints in a process with the base (production) settings and `environment`."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm.settings.base",
            "LOG_FORMAT": "",
            "SENTRY_DSN": "",
            **environment,
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def log_format(**environment) -> str:
    return production_settings(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.LOG_FORMAT, settings.LOGGING['handlers']['console']['formatter'])",
        **environment,
    )


def test_json_logs_are_the_default_in_production_and_plain_text_with_debug():
    assert log_format(DEBUG="0") == "json json"
    assert log_format(DEBUG="1") == "text text"
    assert log_format(DEBUG="1", LOG_FORMAT="json") == "json json"


def test_error_reporting_starts_only_when_a_dsn_is_set():
    code = "import django; django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    assert production_settings(code, DEBUG="0") == "False"
    # A DSN whose server is a closed port: nothing is sent unless an error happens.
    assert production_settings(code, DEBUG="0", SENTRY_DSN="http://public@127.0.0.1:1/1") == "True"
