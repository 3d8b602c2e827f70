"""The opportunity's stages as one table of steps, read by the engine in `crm/core/workflow.py`.

A deal moves between the open stages in any direction (forward as it progresses, back when
it stalls), is won or lost (lost needs a reason from the admin's list), and a lost deal may
be reopened. The system takes the same steps when a quote is accepted or a contract
becomes active. How to add a step: docs/workflow.md.
"""

from django.utils.translation import gettext_lazy as _

from crm.core.workflow import Step, Workflow
from customers.choices import OPEN_STAGES
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
