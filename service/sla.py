"""Business-time arithmetic for the SLA clocks, without the database.

A `Calendar` says when the desk works: periods per weekday in a time zone, holidays off,
and make-up working days (China's 调休: a Saturday or Sunday worked with a weekday's hours).
`add` moves a moment on by business minutes, `between` counts the business minutes between
two moments, and `due` gives a clock's deadline given the pauses (waiting on the customer):
a pause's business minutes push the deadline later by as much.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

Period = tuple[datetime.time, datetime.time]
Pause = tuple[datetime.datetime, datetime.datetime]

#: How far `add` looks for working time before it gives up (a calendar with none).
SEARCH_DAYS = 3 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working time within SEARCH_DAYS."""


@dataclass(frozen=True)
class Calendar:
    time_zone: ZoneInfo
    hours: Mapping[int, Sequence[Period]]  # weekday (Monday 0) -> periods, in order
    holidays: frozenset[datetime.date] = frozenset()
    workdays: Mapping[datetime.date, int] = field(default_factory=dict)  # make-up day -> weekday worked like

    def periods(self, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """The working periods of a local day, as aware datetimes."""
        if day in self.holidays:
            return []
        weekday = self.workdays.get(day, day.weekday())
        return [
            (
                datetime.datetime.combine(day, starts, tzinfo=self.time_zone),
                datetime.datetime.combine(day, ends, tzinfo=self.time_zone),
            )
            for starts, ends in self.hours.get(weekday, ())
        ]

    def add(self, start: datetime.datetime, minutes: float) -> datetime.datetime:
        """The moment `minutes` business minutes after `start` (in `start`'s time zone)."""
        if minutes <= 0:
            return start
        remaining = datetime.timedelta(minutes=minutes)
        local = start.astimezone(self.time_zone)
        day = local.date()
        for _offset in range(SEARCH_DAYS):
            for begins, ends in self.periods(day):
                if ends <= local:
                    continue
                begins = max(begins, local)
                span = ends - begins
                if remaining <= span:
                    return (begins + remaining).astimezone(start.tzinfo)
                remaining -= span
            day += datetime.timedelta(days=1)
        raise NoWorkingTime("the calendar has no working hours")

    def between(self, start: datetime.datetime, end: datetime.datetime) -> int:
        """Whole business minutes from `start` to `end` (0 if `end` is not later)."""
        if end <= start:
            return 0
        first, last = start.astimezone(self.time_zone), end.astimezone(self.time_zone)
        total = datetime.timedelta()
        day = first.date()
        while day <= last.date():
            for begins, ends in self.periods(day):
                overlap = min(ends, last) - max(begins, first)
                if overlap > datetime.timedelta():
                    total += overlap
            day += datetime.timedelta(days=1)
        return int(total.total_seconds() // 60)

    def paused(self, pauses: Iterable[Pause]) -> int:
        """Business minutes inside the pauses."""
        return sum(self.between(begins, ends) for begins, ends in pauses)

    def due(self, start: datetime.datetime, target_minutes: int, pauses: Iterable[Pause] = ()) -> datetime.datetime:
        """A clock's deadline: `target_minutes` of business time after `start`, not counting pauses."""
        return self.add(start, target_minutes + self.paused(pauses))


@dataclass(frozen=True)
class Clock:
    """One SLA clock as a page shows it."""

    due_at: datetime.datetime | None
    done_at: datetime.datetime | None  # when it was met (responded, resolved)
    paused: bool

    def breached(self, now: datetime.datetime) -> bool:
        if self.due_at is None:
            return False
        return (self.done_at or now) > self.due_at

    def state(self, now: datetime.datetime) -> str:
        """ "met", "breached", "paused", "running" or "none"."""
        if self.due_at is None:
            return "none"
        if self.done_at is not None:
            return "breached" if self.done_at > self.due_at else "met"
        if now > self.due_at:
            return "breached"
        return "paused" if self.paused else "running"
