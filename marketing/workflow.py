"""A campaign's lifecycle as one table of steps, read by the engine in `crm/core/workflow.py`.

draft -> scheduled (a sales manager picks the time) -> sending (the scheduler starts it when
the time comes: `send_due_campaigns`) -> sent (the last recipient's outcome is in). A
scheduled campaign goes back to draft; a draft, scheduled or sending one can be cancelled
(what is already in the mail queue still goes). How to add a step: docs/workflow.md.
"""

from django.utils.translation import gettext_lazy as _

from crm.core.workflow import Note, Step, Workflow
from marketing.choices import CampaignStatus as S

WORKFLOW = Workflow(
    model="marketing.Campaign",
    states=S,
    id_argument="campaign_id",
    cannot_become=_("A campaign that is %(current)s cannot become %(target)s."),
    steps=[
        Step(
            "schedule",
            from_=S.DRAFT,
            to=S.SCHEDULED,
            permission="marketing.send_campaign",
            service="marketing.services.campaign_schedule",
            label=_("Schedule"),
            title=_("Schedule campaign"),
            form="marketing.forms.CampaignScheduleForm",
            visibility="change",
            success=_("%(object)s is scheduled."),
            admin=_("Send selected draft campaigns now"),
            admin_done=_("%(count)d campaign(s) scheduled to send now."),
        ),
        Step(
            "unschedule",
            from_=S.SCHEDULED,
            to=S.DRAFT,
            permission="marketing.send_campaign",
            service="marketing.services.campaign_unschedule",
            label=_("Back to draft"),
            title=_("Take the campaign back to draft"),
            visibility="change",
            style="btn-outline-secondary",
            success=_("%(object)s is a draft again."),
            admin=_("Take selected scheduled campaigns back to draft"),
            admin_done=_("%(count)d campaign(s) back to draft."),
        ),
        Step(
            "start",
            from_=S.SCHEDULED,
            to=S.SENDING,
            permission=None,  # the scheduler starts it at its time
            service="marketing.services.campaign_start",
            page=False,
        ),
        Step(
            "finish",
            from_=S.SENDING,
            to=S.SENT,
            permission=None,  # the last recipient's outcome finishes it
            service="marketing.services.campaign_finish",
            page=False,
        ),
        Step(
            "cancel",
            from_=[S.DRAFT, S.SCHEDULED, S.SENDING],
            to=S.CANCELLED,
            permission="marketing.send_campaign",
            service="marketing.services.campaign_cancel",
            label=_("Cancel"),
            title=_("Cancel campaign"),
            reason=Note(required=True, label=_("Why is it cancelled?")),
            ends=True,
            visibility="change",
            style="btn-outline-danger",
            success=_("%(object)s is cancelled."),
        ),
    ],
)

TRANSITIONS = WORKFLOW.transitions
