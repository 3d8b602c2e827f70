"""Scheduled work of the contracts app.

`renewal_reminders` is the daily job that sends the renewal reminders. Celery is not on
this branch yet, so it is a plain function under the task's name; the `celery` branch
turns it into the task `contracts.tasks.renewal_reminders` and schedules it daily."""

from contracts.notifications import contract_renewal_reminders_send


def renewal_reminders() -> int:
    """Send today's renewal reminders; how many contracts were reminded."""
    return len(contract_renewal_reminders_send())
