"""Fixtures shared by every app's tests: one user per role, a customer, and a logged-in client.

Each app's fixtures live in its own `tests/conftest.py`; a module that needs a different
`customer` (or any other of these) defines its own, which wins inside that module."""

import pytest

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the default language. LocaleMiddleware activates a request's
    language for the rest of its thread, so a test client request in Chinese would
    otherwise make the next test's services speak Chinese."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def worker_alive(db):
    """A worker has just reported in, as one does every minute while the system runs, so
    /health/ shows a healthy system whichever broker the test settings found."""
    from crm.core.health import worker_heartbeat_record

    worker_heartbeat_record(worker="test-worker")


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", role=Role.SALES_REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="other_rep", role=Role.SALES_REP)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.SALES_MANAGER)


@pytest.fixture
def finance(db):
    return UserFactory(username="finance", role=Role.FINANCE_APPROVER)


@pytest.fixture
def signatory(db):
    return UserFactory(username="signatory", role=Role.SIGNATORY)


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role=Role.SERVICE_AGENT)


@pytest.fixture
def service_manager(db):
    return UserFactory(username="service_manager", role=Role.SERVICE_MANAGER)


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def customer(rep):
    """A customer owned by `rep`."""
    return CustomerFactory(owner=rep, name="Hangzhou Tea Co")


@pytest.fixture
def client_for(client):
    """`client_for(user)`: the test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


# Browser tests (marker `browser`): one headless Chromium for the session, a fresh context
# and page per test on pytest-django's live server. Helpers: crm/core/tests/browser.py.

_phase_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures know at teardown if it failed."""
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser(django_db_setup):
    """Playwright's sync API runs the tests under a context of its own, where Django's
    per-context connection is a new one: the connection opened out here (creating the test
    database) would be stranded, keep the database in use, and fail its teardown. So the
    test database exists first, and connections are closed on both sides of Playwright."""
    from django.db import connections

    from crm.core.tests.browser import launch_chromium

    connections.close_all()
    with launch_chromium() as chromium:
        yield chromium
        connections.close_all()


@pytest.fixture
def page(request, browser, live_server):
    """A page whose relative URLs go to the live server; a screenshot lands in
    test-artifacts/ when the test fails."""
    from crm.core.tests.browser import browser_page

    def failed():
        report = request.node.stash.get(_phase_reports, {}).get("call")
        return report is not None and report.failed

    with browser_page(browser, live_server.url, request.node.nodeid, failed) as new_page:
        yield new_page


@pytest.fixture(scope="session", autouse=True)
def flush_lifts_truncate_guards():
    """Transactional tests end with Django's flush: one TRUNCATE of every table. The audit
    tables refuse TRUNCATE by trigger, so in tests (only) the flush lifts those triggers
    inside its own transaction and puts them back before it commits."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgname LIKE %s", ["%\\_no\\_truncate"]
            )
            guards = cursor.fetchall()
        lift = [f'ALTER TABLE {table} DISABLE TRIGGER "{name}"' for table, name in guards]
        restore = [f'ALTER TABLE {table} ENABLE TRIGGER "{name}"' for table, name in guards]
        return original(self, [*lift, *sql_list, *restore])

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


def pytest_configure(config):
    """Compile the translation catalogs when a .po is newer than its .mo (they are not
    committed), so the Chinese pages are tested as `make run` serves them."""
    from django.conf import settings

    from crm.core.i18n import compile_catalogs

    try:
        compile_catalogs(settings.BASE_DIR)
    except FileNotFoundError as error:
        raise pytest.UsageError(
            "msgfmt is missing, so the translations cannot be compiled: apt-get install gettext (`make test` does)"
        ) from error


@pytest.fixture
def task_worker(transactional_db):
    """A real Celery worker (in a thread of this process) taking this test process's queue:
    tasks are sent through the broker and run there, not inline. Use with transactional
    tests, so the worker's own connection sees the committed rows."""
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True
