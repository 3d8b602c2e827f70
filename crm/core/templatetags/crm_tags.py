from functools import cache

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_filters.widgets import BaseCSVWidget

from crm.core.masking import as_masker

register = template.Library()

# The masking filters. Every template shows every free-text value through one of them,
# with the `masker` the context processor gives each page (crm/core/masking.py):
# `{{ customer.notes|text:masker|linebreaksbr }}`, `{{ contract.body|terms:masker }}`.


@register.filter
def phone(value, masker):
    """A phone number field, masked unless the reader may see contact details."""
    return as_masker(masker).phone(value)


@register.filter
def email(value, masker):
    """An e-mail address field, masked unless the reader may see contact details."""
    return as_masker(masker).email(value)


@register.filter
def text(value, masker):
    """Free text (names, notes, comments, reasons...) with its phones and e-mails masked."""
    return as_masker(masker).text(value)


@register.filter
def terms(value, masker):
    """Contract terms (title, body, versions): in full for those who approve or sign them."""
    return as_masker(masker).terms(value)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (for sorting and paging links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True) if params else "?"


@register.filter
def role_label(value):
    """A role (a group name) in the reader's language: `{{ role|role_label }}`."""
    from crm.core.roles import Role

    return Role(value).label if value in Role.values else value


@register.filter
def verbose_name(instance):
    """The model's human name, for headings of generic pages."""
    return instance._meta.verbose_name


@register.filter
def bootstrap_widget(field):
    """A bound field's widget with Bootstrap's class, for forms not rendered by crispy.

    A drop-down is written here from the widget's own context (its options, the selected
    one) instead of through Django's template per option: on a list page's filter form
    (the owners, the industries) that was most of the page's rendering time."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select form-select-sm"
    else:
        css = "form-control form-control-sm"
    existing = widget.attrs.get("class", "")
    attrs = {"class": f"{existing} {css}".strip()}
    if type(widget) in (forms.Select, forms.NullBooleanSelect):
        return _select(field, attrs, field.value())
    if isinstance(widget, BaseCSVWidget) and type(widget).__bases__ == (BaseCSVWidget, forms.Select):
        # django-filter's sort drop-down: a Select unless a typed URL holds several values
        values = field.value()
        values = values if isinstance(values, list | tuple) else [values]
        if len(values) <= 1:
            return _select(field, attrs, values[0] if values else "")
    return field.as_widget(attrs=attrs)


def _select(field, attrs, value):
    widget = field.field.widget
    attrs = field.build_widget_attrs({**attrs, **({"id": field.auto_id} if field.auto_id else {})})
    context = widget.get_context(field.html_name, value, attrs)["widget"]
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (option["value"], " selected" if option["selected"] else "", option["label"])
            for _group, group_options, _index in context["optgroups"]
            for option in group_options
        ),
    )
    flags = format_html_join("", " {}", ((name,) for name, value in context["attrs"].items() if value is True))
    values = format_html_join(
        "", ' {}="{}"', ((name, value) for name, value in context["attrs"].items() if value not in (True, False, None))
    )
    return format_html('<select name="{}"{}{}>{}</select>', context["name"], values, flags, options)


@cache
def _choice_labels(model, field_name: str) -> dict:
    return dict(model._meta.get_field(field_name).flatchoices)


@register.filter
def choice_label(record, field_name):
    """`{{ customer|choice_label:"industry" }}`: what `get_industry_display` shows, from the
    field's choices read once (Django's method rebuilds them on every call: three times a row
    on a list page)."""
    value = getattr(record, field_name)
    return _choice_labels(type(record), field_name).get(value, value)


@register.simple_tag
def status_badge(record, field_name="status"):
    """A record's status (or another choice field, such as an opportunity's `stage`) as a
    coloured badge (written here, not included: lists show one per row)."""
    status = getattr(record, field_name)
    if status in ("active", "approved", "won", "accepted", "resolved"):
        colour = "text-bg-success"
    elif status in ("churned", "rejected", "cancelled", "lost", "declined", "expired", "superseded", "closed"):
        colour = "text-bg-secondary"
    elif status in ("prospect", "pending_approval"):
        colour = "text-bg-warning"
    else:
        colour = "text-bg-info"
    return format_html(
        '<span class="badge rounded-pill status-{} {}">{}</span>', status, colour, choice_label(record, field_name)
    )


@register.simple_tag
def history_entries(events, masker):
    """The history as sentences, field labels and shown values (crm/core/history.py)."""
    from crm.core.history import history_entries as entries

    return entries(events, as_masker(masker))


@register.simple_tag(takes_context=True)
def sort_toggle(context, key, current):
    """The query string that sorts by `key`, or by `key` reversed when it already sorts so."""
    return query_with(context, sort=f"-{key}" if current == key else key, page=None, after=None)


@register.simple_tag
def sort_mark(key, current):
    """An arrow after the column the page is sorted by."""
    if current == key:
        return "▲"
    if current == f"-{key}":
        return "▼"
    return ""


@register.filter
def duration_words(seconds):
    """A span of seconds as days and hours ("3 d 4 h"), hours and minutes, or minutes."""
    try:
        seconds = max(0, int(float(seconds or 0)))
    except (TypeError, ValueError):
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest // 60}
    return _("%(minutes)d min") % {"minutes": rest // 60}
