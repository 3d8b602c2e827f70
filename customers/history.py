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
    "contact.marketing_consent_withdrawn": _("%(object)s withdrew their consent to marketing e-mail (%(cause)s)"),
    "interaction.created": _("%(actor)s logged %(object)s"),
    "interaction.deleted": _("%(actor)s deleted %(object)s from the timeline"),
    "opportunity.created": _("%(actor)s opened the opportunity %(object)s"),
    "opportunity.updated": _("%(actor)s changed the opportunity %(object)s"),
    "opportunity.assigned": _("%(actor)s gave the opportunity %(object)s to another owner"),
    "opportunity.advanced": _("%(actor)s moved the opportunity %(object)s to another stage"),
    "opportunity.won": _("%(actor)s marked the opportunity %(object)s won"),
    "opportunity.lost": _("%(actor)s marked the opportunity %(object)s lost"),
    "opportunity.reopened": _("%(actor)s reopened the opportunity %(object)s"),
    "activity.created": _("%(actor)s planned %(object)s"),
    "activity.completed": _("%(actor)s completed %(object)s"),
    "activity.rescheduled": _("%(actor)s rescheduled %(object)s"),
    "activity.cancelled": _("%(actor)s cancelled %(object)s"),
}
