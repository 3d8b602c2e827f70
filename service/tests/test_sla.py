"""The business-time arithmetic, table-driven: nights, lunch breaks, weekends, China's
holidays and make-up working days (调休), and pauses while waiting on the customer."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from service.sla import Calendar, Clock, NoWorkingTime

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = datetime.time
DAY = [(T(9), T(12)), (T(13), T(18))]  # 8 working hours, lunch 12:00-13:00

CHINA = Calendar(
    time_zone=SHANGHAI,
    hours=dict.fromkeys(range(5), DAY),
    holidays=frozenset(
        [datetime.date(2026, 10, day) for day in range(1, 8)]  # National Day, Thu 1 - Wed 7
        + [datetime.date(2026, 2, day) for day in range(15, 24)]  # Spring Festival, Sun 15 - Mon 23
    ),
    workdays={datetime.date(2026, 10, 10): 0, datetime.date(2026, 9, 20): 0, datetime.date(2026, 2, 14): 0},
)


def at(text: str) -> datetime.datetime:
    """A Shanghai wall-clock time, "2026-10-09 17:00"."""
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


ADD = [
    # start, business minutes, deadline, why
    ("2026-12-01 10:00", 60, "2026-12-01 11:00", "inside the morning"),
    ("2026-12-01 11:30", 60, "2026-12-01 13:30", "across the lunch break"),
    ("2026-12-01 17:00", 120, "2026-12-02 10:00", "across the night"),
    ("2026-12-01 20:00", 30, "2026-12-02 09:30", "opened at night: the clock starts next morning"),
    ("2026-12-01 07:00", 30, "2026-12-01 09:30", "opened before opening time"),
    ("2026-12-01 12:20", 30, "2026-12-01 13:30", "opened during lunch"),
    ("2026-12-04 17:00", 120, "2026-12-07 10:00", "Friday evening to Monday across the weekend"),
    ("2026-12-05 10:00", 60, "2026-12-07 10:00", "opened on a Saturday"),
    ("2026-12-01 09:00", 480, "2026-12-01 18:00", "exactly one working day ends at closing time"),
    ("2026-12-01 09:00", 481, "2026-12-02 09:01", "one minute more is the next morning"),
    ("2026-12-01 09:00", 2400, "2026-12-07 18:00", "five working days"),
    ("2026-09-30 17:00", 120, "2026-10-08 10:00", "across the National Day holiday"),
    ("2026-10-09 17:00", 120, "2026-10-10 10:00", "into the make-up Saturday worked after National Day"),
    ("2026-10-10 17:00", 120, "2026-10-12 10:00", "from the make-up Saturday over Sunday"),
    ("2026-09-18 17:00", 120, "2026-09-20 10:00", "Friday into the make-up Sunday"),
    ("2026-02-13 17:00", 120, "2026-02-14 10:00", "into the make-up Saturday before Spring Festival"),
    ("2026-02-14 17:00", 120, "2026-02-24 10:00", "across the whole Spring Festival"),
    ("2026-10-03 10:00", 60, "2026-10-08 10:00", "opened on a holiday"),
    ("2026-12-01 10:00", 0, "2026-12-01 10:00", "no minutes: the same moment"),
]


@pytest.mark.parametrize(("start", "minutes", "expected", "why"), ADD, ids=[row[3] for row in ADD])
def test_add_business_minutes(start, minutes, expected, why):
    assert CHINA.add(at(start), minutes) == at(expected), why


BETWEEN = [
    ("2026-12-01 10:00", "2026-12-01 11:00", 60, "inside the morning"),
    ("2026-12-01 11:30", "2026-12-01 13:30", 60, "lunch does not count"),
    ("2026-12-01 17:00", "2026-12-02 10:00", 120, "the night does not count"),
    ("2026-12-04 17:00", "2026-12-07 10:00", 120, "the weekend does not count"),
    ("2026-09-30 17:00", "2026-10-08 10:00", 120, "the holiday does not count"),
    ("2026-10-09 17:00", "2026-10-10 10:00", 120, "the make-up Saturday counts"),
    ("2026-12-05 08:00", "2026-12-06 20:00", 0, "a whole weekend is nothing"),
    ("2026-12-01 11:00", "2026-12-01 10:00", 0, "backwards is nothing"),
    ("2026-12-01 09:00", "2026-12-08 09:00", 2400, "a week is five working days"),
]


@pytest.mark.parametrize(("start", "end", "expected", "why"), BETWEEN, ids=[row[3] for row in BETWEEN])
def test_business_minutes_between(start, end, expected, why):
    assert CHINA.between(at(start), at(end)) == expected, why


PAUSES = [
    # start, target, pauses, deadline, why
    ("2026-12-01 09:00", 480, [], "2026-12-01 18:00", "no pause"),
    ("2026-12-01 09:00", 480, [("2026-12-01 10:00", "2026-12-01 11:00")], "2026-12-02 10:00", "an hour's pause"),
    (
        "2026-12-01 09:00",
        480,
        [("2026-12-01 17:00", "2026-12-02 10:00")],
        "2026-12-02 11:00",
        "a pause over the night counts only its working time (2 hours)",
    ),
    (
        "2026-12-04 09:00",
        480,
        [("2026-12-04 17:00", "2026-12-07 09:00")],
        "2026-12-07 10:00",
        "a pause over the weekend counts one working hour",
    ),
    (
        "2026-12-01 09:00",
        480,
        [("2026-12-01 10:00", "2026-12-01 10:30"), ("2026-12-01 14:00", "2026-12-01 14:30")],
        "2026-12-02 10:00",
        "two pauses add up",
    ),
    (
        "2026-09-30 09:00",
        480,
        [("2026-09-30 17:00", "2026-10-08 09:00")],
        "2026-10-08 10:00",
        "a pause across the holiday counts only the working hour before it",
    ),
]


@pytest.mark.parametrize(("start", "target", "pauses", "expected", "why"), PAUSES, ids=[row[4] for row in PAUSES])
def test_deadline_with_pauses(start, target, pauses, expected, why):
    assert CHINA.due(at(start), target, [(at(a), at(b)) for a, b in pauses]) == at(expected), why


def test_moments_in_another_time_zone_are_read_as_shanghai_time():
    utc = datetime.UTC
    start = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=utc)  # 17:30 in Shanghai
    assert CHINA.add(start, 60) == at("2026-12-02 09:30")
    assert CHINA.add(start, 60).tzinfo == utc


def test_a_calendar_without_working_hours_says_so():
    with pytest.raises(NoWorkingTime):
        Calendar(time_zone=SHANGHAI, hours={}).add(at("2026-12-01 10:00"), 1)


@pytest.mark.parametrize(
    ("due", "done", "paused", "now", "state"),
    [
        ("2026-12-01 12:00", None, False, "2026-12-01 11:00", "running"),
        ("2026-12-01 12:00", None, True, "2026-12-01 11:00", "paused"),
        ("2026-12-01 12:00", None, False, "2026-12-01 13:00", "breached"),
        ("2026-12-01 12:00", "2026-12-01 11:59", False, "2026-12-02 09:00", "met"),
        ("2026-12-01 12:00", "2026-12-01 12:01", False, "2026-12-02 09:00", "breached"),
        (None, None, False, "2026-12-01 11:00", "none"),
    ],
)
def test_a_clock_shows_its_state(due, done, paused, now, state):
    clock = Clock(at(due) if due else None, at(done) if done else None, paused)
    assert clock.state(at(now)) == state
