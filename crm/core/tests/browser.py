"""Helpers for end-to-end tests that drive a real headless Chromium with Playwright.

The fixtures built on these (`browser`, `page`) live in the root conftest.py. Playwright
is imported lazily so that the rest of the suite runs where it is not installed; the
browser tests then skip with the reason.
"""

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from crm.core.tests.factories import PASSWORD

# Where screenshots of failed browser tests go (git-ignored).
ARTIFACTS_DIR = Path(settings.BASE_DIR) / "test-artifacts"

# Chromium is the system's (Debian's) build, never one downloaded by `playwright install`.
CHROMIUM_CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]

# Keep a machine without network quiet and fast: no update checks, sync or QUIC probes.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's default waits are 30 s; a page of this app answers in well under one.
TIMEOUT_MS = 10_000


def chromium_executable() -> str | None:
    """The Chromium binary to drive: `$CHROMIUM` if set, else the first one on PATH."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def launch_chromium():
    """Start Playwright and launch a headless Chromium for the session.

    Skips (with the reason) when Playwright or a Chromium binary is missing. While the
    sync API's event loop runs in this thread Django refuses ORM calls here
    (SynchronousOnlyOperation); tests are not async code, so the check is turned off for
    exactly as long as Playwright runs — Django's documented escape hatch.
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "Chromium not found: install the system's chromium package or set CHROMIUM=/path/to/chrome "
            "(`playwright install` is not used)"
        )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()


@contextmanager
def browser_page(browser, base_url: str, nodeid: str, failed):
    """A fresh context (own cookies) and page on the live server; on failure its screenshot
    and HTML go to test-artifacts/. `failed()` tells, at teardown, whether the test failed."""
    context = browser.new_context(base_url=base_url, locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.csp_violations = csp_violations(page)
    try:
        yield page
        if failed():
            save_artifacts(page, nodeid)
        page.wait_for_load_state("networkidle")  # htmx requests finish before the test database goes
        if page.csp_violations and not failed():
            raise AssertionError("The Content-Security-Policy blocked:\n" + "\n".join(page.csp_violations))
    finally:
        context.close()


def csp_violations(page) -> list[str]:
    """A list that fills with every console message in which Chromium reports something
    the Content-Security-Policy refused (an inline script or style, eval …)."""
    found = []

    def listen(message):
        if "Content Security Policy" in message.text:
            found.append(f"{page.url}: {message.text}")

    page.on("console", listen)
    return found


def save_artifacts(page, nodeid: str) -> Path:
    path = artifact_path(nodeid, ".png")
    try:
        page.screenshot(path=path, full_page=True)
        artifact_path(nodeid, ".html").write_text(f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8")
    except Exception as error:  # the page may be gone; the test's own error matters more
        print(f"Could not save a screenshot of the failed test: {error}")
    else:
        print(f"Screenshot of the failed test: {path}")
    return path


def artifact_path(nodeid: str, suffix: str) -> Path:
    """A file name in test-artifacts/ derived from the test's node id."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    return ARTIFACTS_DIR / f"{name}{suffix}"


def log_in(page, user, password: str = PASSWORD):
    """Log in through the real login form and wait for the page it leads to."""
    response = page.goto("/accounts/login/")
    if not response.ok:
        raise AssertionError(f"The login page answered {response.status}: {page.inner_text('body')[:500]}")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    shown = page.get_by_test_id("current-user")
    if not shown.is_visible():
        raise AssertionError(f"Login as {user.get_username()!r} failed; the page shows: {page.inner_text('main')}")
    return page


def page_text(page) -> str:
    """Everything the browser has: the markup (attributes, hidden inputs) and the visible text."""
    return page.content() + "\n" + page.inner_text("body")
