"""The ticket lifecycle as one table of steps, read by the engine in `crm/core/workflow.py`.

new -> assigned (a manager or the automatic assignment) -> in progress (the assignee starts;
an agent who claims an unassigned ticket starts at once) -> waiting on customer (the SLA
clocks pause) -> resolved -> closed. A resolved ticket reopens; a closed one within the
days the desk's settings allow. How to add a step: docs/workflow.md.
"""

from django.utils.translation import gettext_lazy as _

from crm.core.workflow import Note, Step, Workflow
from service.choices import OPEN_STATUSES
from service.choices import TicketStatus as S


def _works_on_it(ticket, user):
    """The assignee works a ticket; a manager (who sees every ticket) may too."""
    return ticket.assignee_id == user.pk or user.has_perm("service.view_all_ticket")


def _unassigned(ticket, user):
    return ticket.assignee_id is None


WORKFLOW = Workflow(
    model="service.Ticket",
    states=S,
    id_argument="ticket_id",
    cannot_become=_("A ticket that is %(current)s cannot become %(target)s."),
    steps=[
        Step(
            "assign",
            from_=[S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER],
            to=S.ASSIGNED,
            permission="service.assign_ticket",
            by_system=True,  # the automatic assignment when a ticket is created
            service="service.services.ticket_assign",
            label=_("Assign"),
            title=_("Assign ticket"),
            form="service.forms.TicketAssignForm",
            visibility="change",
            style="btn-outline-primary",
            success=_("%(object)s is assigned."),
        ),
        Step(
            "claim",
            from_=S.NEW,
            to=S.IN_PROGRESS,
            permission="service.claim_ticket",
            service="service.services.ticket_claim",
            label=_("Claim"),
            title=_("Claim ticket"),
            confirm=False,
            when=_unassigned,
            success=_("%(object)s is yours now."),
        ),
        Step(
            "start",
            from_=[S.ASSIGNED, S.WAITING_ON_CUSTOMER],
            to=S.IN_PROGRESS,
            permission="service.work_ticket",
            by_system=True,  # a customer's message resumes a ticket waiting on them
            service="service.services.ticket_start",
            label=_("Start work"),
            confirm=False,
            visibility="change",
            when=_works_on_it,
            success=_("%(object)s is in progress."),
            admin=_("Start work on selected tickets"),
            admin_done=_("%(count)d ticket(s) in progress."),
        ),
        Step(
            "wait",
            from_=S.IN_PROGRESS,
            to=S.WAITING_ON_CUSTOMER,
            permission="service.work_ticket",
            service="service.services.ticket_wait",
            label=_("Wait on customer"),
            comment=Note(required=False, label=_("What do you wait for?")),
            style="btn-outline-secondary",
            visibility="change",
            when=_works_on_it,
            success=_("%(object)s waits on the customer; its clocks are paused."),
        ),
        Step(
            "resolve",
            from_=OPEN_STATUSES,
            to=S.RESOLVED,
            permission="service.work_ticket",
            service="service.services.ticket_resolve",
            label=_("Resolve"),
            title=_("Resolve ticket"),
            comment=Note(required=True, label=_("How was it resolved?")),
            form="service.forms.TicketResolveForm",
            style="btn-success",
            visibility="change",
            when=_works_on_it,
            success=_("%(object)s is resolved."),
        ),
        Step(
            "close",
            from_=S.RESOLVED,
            to=S.CLOSED,
            permission="service.work_ticket",
            by_system=True,  # close_resolved_tickets closes what was resolved long ago
            service="service.services.ticket_close",
            label=_("Close"),
            title=_("Close ticket"),
            style="btn-outline-success",
            visibility="change",
            success=_("%(object)s is closed."),
            admin=_("Close selected resolved tickets"),
            admin_done=_("%(count)d ticket(s) closed."),
        ),
        Step(
            "reopen",
            from_=[S.RESOLVED, S.CLOSED],
            to=[S.IN_PROGRESS, S.NEW],  # back to its assignee, or to the unassigned queue
            permission="service.reopen_ticket",
            by_system=True,  # a poor satisfaction rating may reopen it
            service="service.services.ticket_reopen",
            label=_("Reopen"),
            title=_("Reopen ticket"),
            reason=Note(required=True, label=_("Why is it reopened?")),
            style="btn-outline-warning",
            visibility="change",
            success=_("%(object)s is open again."),
        ),
    ],
)

TRANSITIONS = WORKFLOW.transitions
