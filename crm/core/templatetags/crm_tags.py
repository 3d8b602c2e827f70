from django import forms, template
from django.utils.http import urlencode

from crm.core.masking import mask_email, mask_phone, mask_text

register = template.Library()


@register.filter
def phone(value, reveal):
    """Show a phone number, masked unless `reveal` is true."""
    return value if reveal else mask_phone(value)


@register.filter
def email(value, reveal):
    """Show an e-mail address, masked unless `reveal` is true."""
    return value if reveal else mask_email(value)


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
def verbose_name(instance):
    """The model's human name, for headings of generic pages."""
    return instance._meta.verbose_name


MASKED_FIELDS = {"phone": mask_phone, "email": mask_email, "body": mask_text, "notes": mask_text}


@register.simple_tag
def change_value(field, value, reveal):
    """An old or new value in the history, masked like the field itself."""
    if value in (None, ""):
        return "—"
    if not reveal and field in MASKED_FIELDS:
        return MASKED_FIELDS[field](str(value))
    return value


@register.filter
def bootstrap_widget(field):
    """A bound field's widget with Bootstrap's class, for forms not rendered by crispy."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select form-select-sm"
    else:
        css = "form-control form-control-sm"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def text(value, reveal):
    """Free text, with e-mail addresses and phone numbers in it masked unless `reveal` is true."""
    return value if reveal else mask_text(value)
