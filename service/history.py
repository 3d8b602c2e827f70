"""How the history reads the service desk's audit events (see crm/core/history.py)."""

from django.utils.translation import gettext_lazy as _


def _assigned(event):
    if (event.extra or {}).get("automatic"):
        return _("%(object)s was assigned automatically to the least-loaded agent on duty")
    return _("%(actor)s assigned %(object)s")


SENTENCES = {
    "ticket.created": _("%(actor)s opened %(object)s"),
    "ticket.updated": _("%(actor)s changed %(object)s"),
    "ticket.assigned": _assigned,
    "ticket.claimed": _("%(actor)s claimed %(object)s"),
    "ticket.started": _("%(actor)s started work on %(object)s"),
    "ticket.resumed": _("%(object)s is in progress again"),
    "ticket.waiting": _("%(actor)s set %(object)s to wait on the customer: %(comment)s"),
    "ticket.resolved": _("%(actor)s resolved %(object)s: %(comment)s"),
    "ticket.closed": _("%(actor)s closed %(object)s"),
    "ticket.reopened": _("%(actor)s reopened %(object)s: %(reason)s"),
    "ticket.replied": _("%(actor)s replied to the customer on %(object)s"),
    "ticket.noted": _("%(actor)s added an internal note to %(object)s"),
    "ticket.customer_wrote": _("The customer wrote on %(object)s"),
    "ticket.sla_warned": _("%(object)s is close to breaching its SLA"),
    "ticket.escalated": _("%(object)s breached its SLA and was escalated"),
    "agent.duty_changed": _("%(actor)s changed the duty of %(object)s"),
}
