"""Filters for the workflow buttons partial: steps that move a document on, and those that end it."""

from django import template

register = template.Library()


@register.filter
def onward(actions):
    return [action for action in actions if not action["ends"]]


@register.filter
def ending(actions):
    return [action for action in actions if action["ends"]]
