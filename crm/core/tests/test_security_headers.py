"""Response headers: Content-Security-Policy without inline script, Permissions-Policy,
Referrer-Policy and no-store on every page that shows customer data or a signing page;
proxy headers trusted only when a proxy is declared."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from contracts.tests.factories import approved_contract, default_approval_rules
from contracts.tests.test_signing_workflow import send_link
from customers.tests.factories import CustomerFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


def assert_hardened(response):
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_staff_page_is_hardened_and_not_stored(client, rep):
    CustomerFactory(owner=rep)
    client.force_login(rep)
    response = client.get(reverse("customers:customer_list"))
    assert response.status_code == 200
    assert_hardened(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_login_page_is_hardened(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_hardened(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_customer_signing_page_is_hardened_and_not_stored(client, rep, manager):
    default_approval_rules()
    contract = approved_contract(approvers=[manager], owner=rep, customer=CustomerFactory(owner=rep))
    _link, token = send_link(contract, rep)
    opened = client.get(reverse("contracts:customer_sign", args=[token]))
    assert "no-store" in opened["Cache-Control"]
    response = client.get(opened["Location"])
    assert response.status_code == 200
    assert_hardened(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_pages_load_htmx_without_eval_or_injected_styles(client, rep):
    client.force_login(rep)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert '"allowEval": false' in page
    assert '"includeIndicatorStyles": false' in page
    assert '"allowScriptTags": false' in page


def test_no_template_has_inline_script_handlers_or_styles():
    """What the policy would block: inline <script> code, on*= handlers, style attributes."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            problems.append(f"{path.relative_to(TEMPLATES)}: inline {match.group(0)}")
        for match in re.finditer(r"""\son[a-z]+\s*=\s*["']""", text):
            problems.append(f"{path.relative_to(TEMPLATES)}: handler {match.group(0).strip()}")
        for _match in re.finditer(r"""\sstyle\s*=\s*["']""", text):
            problems.append(f"{path.relative_to(TEMPLATES)}: style attribute")
        if "<style" in text or "javascript:" in text:
            problems.append(f"{path.relative_to(TEMPLATES)}: <style> or javascript: URL")
    assert not problems, "\n".join(problems)


def proxy_settings(**env) -> str:
    """SECURE_PROXY_SSL_HEADER and USE_X_FORWARDED_FOR as the settings module reads them."""
    environment = {k: v for k, v in os.environ.items() if k != "BEHIND_PROXY"} | env
    environment.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unused")
    code = "import crm.settings.base as s; print(s.SECURE_PROXY_SSL_HEADER, s.USE_X_FORWARDED_FOR)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_proxy_headers_are_trusted_only_when_a_proxy_is_declared():
    assert proxy_settings() == "None False"
    assert proxy_settings(BEHIND_PROXY="1") == "('HTTP_X_FORWARDED_PROTO', 'https') True"


@pytest.mark.django_db
def test_a_forged_forwarded_proto_does_not_make_a_request_secure(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
