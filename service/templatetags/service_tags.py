from django import template

from service.selectors import ticket_is_breaching

register = template.Library()


@register.filter
def clock_state(clock, now):
    """ "met", "breached", "paused", "running" or "none" (service/sla.py's Clock)."""
    return clock.state(now)


@register.filter
def breaching(ticket, now):
    return ticket_is_breaching(ticket, now)
