"""How the history reads the orders' audit events (see crm/core/history.py)."""

from django.utils.translation import gettext_lazy as _


def _approved(event):
    if (event.extra or {}).get("automatic"):
        return _("%(actor)s placed %(object)s; it needed no approval")
    return _("%(actor)s approved %(object)s")


SENTENCES = {
    "order.created": _("%(actor)s drafted %(object)s (total %(total)s)"),
    "order.updated": _("%(actor)s changed %(object)s (total now %(total)s)"),
    "order.submitted": _("%(actor)s submitted %(object)s for approval: %(approval_reasons)s"),
    "order.approved": _approved,
    "order.rejected": _("%(actor)s sent %(object)s back to draft: %(comment)s"),
    "order.fulfilment_started": _("%(actor)s started the fulfilment of %(object)s"),
    "order.delivered": _("%(actor)s marked %(object)s delivered"),
    "order.closed": _("%(actor)s closed %(object)s"),
    "order.cancelled": _("%(actor)s cancelled %(object)s: %(reason)s"),
    "quote.created": _("%(actor)s drafted %(object)s (total %(gross)s)"),
    "quote.updated": _("%(actor)s changed %(object)s (total now %(gross)s)"),
    "quote.submitted": _("%(actor)s asked for approval of the discount of %(object)s: %(approval_reasons)s"),
    "quote.approved": _("%(actor)s approved the discount of %(object)s"),
    "quote.rejected": _("%(actor)s sent %(object)s back to draft: %(comment)s"),
    "quote.sent": _("%(actor)s sent %(object)s to %(email)s"),
    "quote.superseded": _("%(actor)s superseded %(object)s by sending %(by)s"),
    "quote.link_revoked": _("%(actor)s withdrew the link of %(object)s sent to %(email)s"),
    "quote.accepted": _("%(actor)s accepted %(object)s; contract %(contract)s was drafted"),
    "quote.declined": _("%(actor)s declined %(object)s: %(reason)s"),
    "quote.expired": _("%(object)s expired"),
    "quote.revised": _("%(actor)s drafted %(object)s, revising %(supersedes)s"),
    "quote.cancelled": _("%(actor)s cancelled %(object)s: %(reason)s"),
    "product.created": _("%(actor)s created the product %(object)s"),
    "product.updated": _("%(actor)s changed the product %(object)s"),
}
