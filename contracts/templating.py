"""Filling contract templates: only the documented placeholders, never a silent blank."""

from string import Template

from django.utils.translation import gettext as _

from crm.core.exceptions import DomainError

PLACEHOLDERS = {
    "customer_name",
    "customer_address",
    "customer_email",
    "contract_title",
    "amount",
    "currency",
    "start_date",
    "end_date",
    "payment_terms_days",
    "company_name",
}


def placeholders_unknown(body: str) -> set[str]:
    """Placeholders in `body` that rendering would not know, and malformed `$` uses."""
    template = Template(body)
    if not template.is_valid():
        return {_("a `$` that is not a placeholder (write $$ for a dollar sign)")}
    return set(template.get_identifiers()) - PLACEHOLDERS


def template_render(body: str, values: dict) -> str:
    unknown = placeholders_unknown(body)
    if unknown:
        raise DomainError(
            _("The template uses unknown placeholders: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    missing = PLACEHOLDERS - set(values)
    if missing:
        raise DomainError(_("No value for placeholders: %(names)s.") % {"names": ", ".join(sorted(missing))})
    return Template(body).substitute({name: str(values[name]) for name in PLACEHOLDERS})


def clauses_missing(body: str, required_clauses) -> list[str]:
    """Required clause headings that do not appear in the body (case-insensitive)."""
    text = body.casefold()
    return [clause for clause in required_clauses if clause.strip().casefold() not in text]
