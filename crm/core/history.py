"""The object history as people read it: one sentence per audit event, in the reader's
language, with field labels and values as the pages show them, masked by the reader's masker.

Each app declares the sentences of its own action codes in `<app>/history.py` and registers
them from its `AppConfig.ready()` (this kernel module names no app):

    SENTENCES = {"contract.signing_link_sent": _("%(actor)s sent the signing link to %(email)s")}
    history_sentences_register(SENTENCES)

A sentence is a lazily translated string with named placeholders: `actor` (the person's
name, or "the system"), `object` (what the event is about), `status` (the new status, by
its label, when the event changed it) and every key of the event's `extra`. A placeholder
an event lacks reads as "—", so a sentence never fails on an old event. Where one action
reads differently by its extra data, register a function `sentence(event)` that returns
the sentence to fill. An action without
a sentence falls back on its verb (`*.created`, `*.updated`, `*.deleted`) and then on a
generic sentence that still names the action.

Values: a field with choices shows its label, a decimal is formatted with grouping at the
field's scale, a date or time as the pages write it (`Y-m-d`, `Y-m-d H:i`), a yes/no field as "yes"/"no", and a
field the model does not know (any more) by its name. Every value that comes from the
event (names, e-mails, free text, the object's name) goes through the masker first.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.masking import Masker
from crm.core.roles import Role

_sentences: dict[str, Any] = {}

FALLBACKS = {
    "created": gettext_lazy("%(actor)s created %(object)s"),
    "updated": gettext_lazy("%(actor)s changed %(object)s"),
    "deleted": gettext_lazy("%(actor)s deleted %(object)s"),
}
GENERIC = gettext_lazy("%(actor)s recorded “%(action)s” on %(object)s")
EMPTY = "—"
CHANGE_LIMIT = 160


def history_sentences_register(sentences: Mapping[str, Any]) -> None:
    """Add an app's sentences, by action code (call from `AppConfig.ready()`)."""
    _sentences.update(sentences)


def history_sentence_for(action: str) -> Any:
    if action in _sentences:
        return _sentences[action]
    return FALLBACKS.get(action.rpartition(".")[2], GENERIC)


@dataclass
class HistoryChange:
    label: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    event: Any
    sentence: str
    changes: list[HistoryChange] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.event.action


class _Placeholders(dict):
    """Missing placeholders read as a dash instead of failing."""

    def __missing__(self, key):
        return EMPTY


def _model_field(model, name):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def field_label(model, name: str) -> str:
    """The model's label for a field (its verbose_name), or the name made readable."""
    model_field = _model_field(model, name)
    label = getattr(model_field, "verbose_name", None) or name.replace("_", " ")
    return capfirst(str(label))


def _as_date(value):
    if isinstance(value, datetime.date):
        return value
    return parse_date(value) if isinstance(value, str) else None


def _as_datetime(value):
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return parsed


def field_value(model_field, value: Any, masker: Masker, *, field_name: str, model: str = "", limit=None) -> Any:
    """One old or new value as the page shows it (see the module's docstring)."""
    if value in (None, "", [], {}):
        return EMPTY
    if model_field is not None and getattr(model_field, "choices", None) and not isinstance(value, list | dict):
        labels = {str(key): label for key, label in model_field.flatchoices}
        if str(value) in labels:
            return str(labels[str(value)])
    if isinstance(model_field, models.BooleanField) or isinstance(value, bool):
        return _("yes") if value in (True, "True", "true") else _("no")
    if isinstance(model_field, models.DecimalField):
        try:
            return number_format(Decimal(str(value)), decimal_pos=model_field.decimal_places, force_grouping=True)
        except (InvalidOperation, ValueError):
            pass
    if isinstance(model_field, models.DateTimeField):
        parsed = _as_datetime(value)
        if parsed is not None:
            return date_format(parsed, "Y-m-d H:i")
    elif isinstance(model_field, models.DateField):
        parsed = _as_date(value)
        if parsed is not None:
            return date_format(parsed, "Y-m-d")
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    if limit and isinstance(value, str) and len(value) > limit + 40:
        # Only what the page shows is masked; a few more characters keep a number cut at
        # the limit masked whole.
        value = value[: limit + 40]
    shown = masker.change(field_name, value, model=model)
    if limit and isinstance(shown, str) and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown


def _actor_name(event, masker: Masker) -> str:
    actor = event.actor if event.actor_id else None
    if actor is not None:
        return masker.text(actor.get_full_name() or actor.get_username())
    if event.actor_repr:
        return masker.text(event.actor_repr)
    return _("the system")


def _placeholder(key: str, value: Any, masker: Masker, model_class) -> Any:
    if value in (None, "", [], {}):
        return EMPTY
    if key in ("email", "phone") and isinstance(value, str):
        return getattr(masker, key)(value)
    if key == "role" and value in Role.values:
        return str(Role(value).label)
    model_field = _model_field(model_class, key)
    if model_field is not None and not model_field.is_relation:
        return field_value(model_field, value, masker, field_name=key)
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    return masker.text(str(value)) if not isinstance(value, int | float | Decimal) else value


def history_entry(event, masker: Masker) -> HistoryEntry:
    model_class = event.target_type.model_class() if event.target_type_id else None
    model = f"{event.target_type.app_label}.{event.target_type.model}" if event.target_type_id else ""
    values = _Placeholders()
    for key, value in (event.extra or {}).items():
        values[key] = _placeholder(key, value, masker, model_class)
    values["actor"] = _actor_name(event, masker)
    values["object"] = masker.text(event.target_repr) or EMPTY
    values["action"] = event.action
    changes = []
    for name, pair in sorted((event.changes or {}).items()):
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
        model_field = _model_field(model_class, name)
        kwargs = {"field_name": name, "model": model, "limit": CHANGE_LIMIT}
        changes.append(
            HistoryChange(
                label=field_label(model_class, name),
                old=field_value(model_field, old, masker, **kwargs),
                new=field_value(model_field, new, masker, **kwargs),
            )
        )
        if name == "status":
            values["status"] = field_value(model_field, new, masker, field_name=name)
    sentence = history_sentence_for(event.action)
    if callable(sentence):
        sentence = sentence(event)
    try:
        text = str(sentence) % values
    except (TypeError, ValueError, KeyError):  # a translation with a broken placeholder
        text = str(GENERIC) % values
    return HistoryEntry(event=event, sentence=capfirst(text), changes=changes)


def history_entries(events: Iterable, masker: Masker) -> list[HistoryEntry]:
    return [history_entry(event, masker) for event in events]
