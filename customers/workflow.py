"""The opportunity's stages and the activity's life as tables of steps, read by the engine in `crm/core/workflow.py`.

A deal moves between the open stages in any direction (forward as it progresses, back when
it stalls), is won or lost (lost needs a reason from the admin's list), and a lost deal may
be reopened. The system takes the same steps when a quote is accepted or a contract
becomes active. How to add a step: docs/workflow.md.
"""

from django.utils.translation import gettext_lazy as _

from crm.core.workflow import Note, Step, Workflow
from customers.choices import OPEN_STAGES, ActivityStatus
from customers.choices import OpportunityStage as S

WORKFLOW = Workflow(
    model="customers.Opportunity",
    states=S,
    id_argument="opportunity_id",
    status_field="stage",
    cannot_become=_("An opportunity in %(current)s cannot move to %(target)s."),
    steps=[
        Step(
            "advance",
            from_=OPEN_STAGES,
            to=OPEN_STAGES,
            permission="customers.change_opportunity",
            service="customers.services.opportunity_advance",
            label=_("Move to stage"),
            by_system=True,
            visibility="change",
            view="customers.views.OpportunityStepView",
            style="btn-outline-primary",
            form="customers.forms.OpportunityAdvanceForm",
            success=_("%(object)s moved to its new stage."),
        ),
        Step(
            "win",
            from_=OPEN_STAGES,
            to=S.WON,
            permission="customers.close_opportunity",
            service="customers.services.opportunity_win",
            label=_("Mark won"),
            form="customers.forms.OpportunityNoteForm",
            by_system=True,
            visibility="change",
            view="customers.views.OpportunityStepView",
            style="btn-success",
            success=_("%(object)s is won."),
            admin=_("Mark selected opportunities won"),
            admin_done=_("%(count)d opportunity(ies) marked won."),
        ),
        Step(
            "lose",
            from_=OPEN_STAGES,
            to=S.LOST,
            permission="customers.close_opportunity",
            service="customers.services.opportunity_lose",
            label=_("Mark lost"),
            title=_("Mark the opportunity lost"),
            by_system=True,
            visibility="change",
            view="customers.views.OpportunityStepView",
            style="btn-outline-danger",
            form="customers.forms.OpportunityLoseForm",
            success=_("%(object)s is lost."),
        ),
        Step(
            "reopen",
            from_=S.LOST,
            to=OPEN_STAGES,  # back to the stage it was lost from
            permission="customers.change_opportunity",
            service="customers.services.opportunity_reopen",
            label=_("Reopen"),
            form="customers.forms.OpportunityNoteForm",
            visibility="change",
            view="customers.views.OpportunityStepView",
            style="btn-outline-primary",
            success=_("%(object)s is open again."),
            admin=_("Reopen selected lost opportunities"),
            admin_done=_("%(count)d opportunity(ies) reopened."),
        ),
    ],
)


def step_for_move(source, target) -> str:
    """The name of the step that takes an opportunity from `source` to `target`."""
    source, target = S(source), S(target)
    if source == S.LOST:
        return "reopen"
    if target == S.WON:
        return "win"
    if target == S.LOST:
        return "lose"
    return "advance"


ACTIVITY_WORKFLOW = Workflow(
    model="customers.Activity",
    states=ActivityStatus,
    id_argument="activity_id",
    cannot_become=_("An activity that is %(current)s cannot become %(target)s."),
    steps=[
        Step(
            "complete",
            from_=ActivityStatus.OPEN,
            to=ActivityStatus.DONE,
            permission="customers.change_activity",
            service="customers.services.activity_complete",
            label=_("Mark done"),
            visibility="change",
            style="btn-success",
            button=False,  # the activity's page holds the outcome form
            form="customers.forms.ActivityCompleteForm",
            success=_("Done: %(object)s. The outcome is on the timeline."),
        ),
        Step(
            "reschedule",
            from_=ActivityStatus.OPEN,
            to=None,
            permission="customers.change_activity",
            service="customers.services.activity_reschedule",
            label=_("Reschedule"),
            visibility="change",
            style="btn-outline-primary",
            form="customers.forms.ActivityRescheduleForm",
            success=_("Rescheduled %(object)s."),
        ),
        Step(
            "cancel",
            from_=ActivityStatus.OPEN,
            to=ActivityStatus.CANCELLED,
            permission="customers.change_activity",
            service="customers.services.activity_cancel",
            label=_("Cancel activity"),
            reason=Note(required=False),
            ends=True,
            style="btn-outline-danger",
            visibility="change",
            success=_("Cancelled %(object)s."),
            admin=_("Cancel selected activities"),
            admin_done=_("%(count)d activity(ies) cancelled."),
        ),
    ],
)
