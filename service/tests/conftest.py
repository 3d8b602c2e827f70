import datetime
from zoneinfo import ZoneInfo

import pytest

from service.tests.factories import agent_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def on_duty_agent(db):
    """The one agent on duty: new tickets go to them."""
    return agent_for("duty_agent")


@pytest.fixture
def tuesday_morning():
    """A working Tuesday, 10:00 in Shanghai (no holiday near)."""
    return datetime.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def sla_defaults(transactional_db):
    """The default calendar and policies again, for tests that commit (the flush after each
    such test empties the tables a migration seeded)."""
    from importlib import import_module

    from django.apps import apps

    import_module("service.migrations.0002_china_calendar_and_default_policies").calendar_seed(apps, None)
