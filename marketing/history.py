"""How the history reads marketing's audit events (see crm/core/history.py)."""

from django.utils.translation import gettext_lazy as _

SENTENCES = {
    "segment.created": _("%(actor)s created the segment %(object)s"),
    "segment.updated": _("%(actor)s changed the segment %(object)s"),
    "segment.deleted": _("%(actor)s deleted the segment %(object)s"),
    "campaign.created": _("%(actor)s created the campaign %(object)s"),
    "campaign.updated": _("%(actor)s changed the campaign %(object)s"),
    "campaign.scheduled": _("%(actor)s scheduled %(object)s"),
    "campaign.unscheduled": _("%(actor)s took %(object)s back to draft"),
    "campaign.started": _("%(object)s started sending to %(recipients)s recipient(s)"),
    "campaign.sent": _("%(object)s finished sending"),
    "campaign.cancelled": _("%(actor)s cancelled %(object)s: %(reason)s"),
    "campaign.test_sent": _("%(actor)s sent a test of %(object)s to %(to)s"),
    "campaign.unsubscribed": _("%(email)s unsubscribed through %(object)s"),
    "campaign.recipient_bounced": _("The mail of %(object)s to %(email)s bounced for good (%(status)s)"),
    "campaign.recipient_soft_bounced": _("The mail of %(object)s to %(email)s bounced for now (%(status)s)"),
    "campaign.recipient_replied": _("%(email)s replied to %(object)s"),
    "campaign.opportunity_linked": _("%(actor)s opened the opportunity %(opportunity)s from %(object)s"),
}
