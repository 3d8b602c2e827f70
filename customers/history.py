"""How the history reads the customers' audit events (see crm/core/history.py)."""

from django.utils.translation import gettext_lazy as _


def _status_followed(event):
    cause = (event.extra or {}).get("cause")
    if cause == "contract.drafted":
        return _("The status became %(status)s because contract %(document)s was drafted")
    if cause == "contract.activated":
        return _("The status became %(status)s because contract %(document)s became active")
    return _("The status became %(status)s")


SENTENCES = {
    "customer.created": _("%(actor)s created the customer %(object)s"),
    "customer.updated": _("%(actor)s changed the customer %(object)s"),
    "customer.deleted": _("%(actor)s deleted the customer %(object)s"),
    "customer.reassigned": _("%(actor)s gave %(object)s to another owner"),
    "customer.status_followed": _status_followed,
    "contact.created": _("%(actor)s added the contact %(object)s"),
    "contact.updated": _("%(actor)s changed the contact %(object)s"),
    "contact.deleted": _("%(actor)s removed the contact %(object)s"),
    "interaction.created": _("%(actor)s logged %(object)s"),
    "interaction.deleted": _("%(actor)s deleted %(object)s from the timeline"),
}
