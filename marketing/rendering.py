"""The campaign's own little template language, and nothing more: `{{ contact.name }}`-style
placeholders from a fixed list, filled with plain text.

Django's or Jinja's template engines are not used on purpose: a campaign is written by
staff and filled with what customers typed (names, titles), and neither should be able to
reach tags, filters, attributes or other objects. Here the template is read once, left to
right; a placeholder is replaced by its value and the value is never read again, so a
contact called `{{ customer.name }}` or `{% load %}` is mailed exactly that text. Anything
that is not a known placeholder is text. The mail is text/plain, so there is no markup to
escape.

Links in the campaign's own text (never in a filled-in value) are found here too: they
become tracked links that name the link by its position in the campaign's list.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

PLACEHOLDERS = {
    "contact.name": _("the contact's name"),
    "contact.title": _("the contact's job title"),
    "customer.name": _("the customer's name"),
    "customer.industry": _("the customer's industry"),
    "sender.name": _("the campaign owner's name"),
    "campaign.name": _("the campaign's name"),
}

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
# A link as people paste it, up to a space, a quote, an angle bracket or closing
# punctuation (ASCII or full-width) that ends the sentence around it.
LINK = re.compile(r"https?://[^\s<>\"'（）「」【】，。！？；：、]+")
_TRAILING = ".,;:!?)]}'\""
TOKEN = re.compile(rf"{PLACEHOLDER.pattern}|{LINK.pattern}")


@dataclass(frozen=True)
class Sample:
    """The values one recipient's copy is filled with."""

    contact_name: str = ""
    contact_title: str = ""
    customer_name: str = ""
    customer_industry: str = ""
    sender_name: str = ""
    campaign_name: str = ""

    def value(self, name: str) -> str:
        return str(getattr(self, name.replace(".", "_"), ""))


def unknown_placeholders(template: str) -> list[str]:
    """The placeholders a template names that do not exist (shown as a form error)."""
    return sorted({name for name in PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})


def _link_at(match: re.Match) -> tuple[str, str]:
    """The link a match found, and the punctuation after it that belongs to the sentence."""
    text = match.group(0)
    link = text.rstrip(_TRAILING)
    return link, text[len(link) :]


def links_in(*templates: str) -> list[str]:
    """The distinct links in the templates' own text, in order of first appearance."""
    found: list[str] = []
    for template in templates:
        for match in TOKEN.finditer(template or ""):
            if match.group(1) is None:
                link, _rest = _link_at(match)
                if link not in found:
                    found.append(link)
    return found


def render(template: str, sample: Sample, *, track: Callable[[str], str] | None = None) -> str:
    """The template filled for one recipient. `track(link)` gives the tracked address of a
    link of the campaign's own text (left as written without it)."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name is not None:
            return sample.value(name) if name in PLACEHOLDERS else match.group(0)
        link, rest = _link_at(match)
        return (track(link) if track else link) + rest

    return TOKEN.sub(replace, template or "")


def render_subject(template: str, sample: Sample) -> str:
    """A subject is one line: a value with a line break cannot add mail headers."""
    return " ".join(render(template, sample).split())[:300]
