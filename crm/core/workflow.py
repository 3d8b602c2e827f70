"""The one workflow engine: a model's lifecycle as a declarative table of steps.

Each app declares its table in `<app>/workflow.py`:

    WORKFLOW = Workflow(
        model="orders.Order",
        states=OrderStatus,
        id_argument="order_id",
        steps=[
            Step("approve", from_=S.PENDING_APPROVAL, to=S.APPROVED, permission="orders.approve_order",
                 service="orders.services.order_approve", label=_("Approve"), comment=Note()),
            ...
        ],
    )

From that one table come: the check inside each service (`WORKFLOW.check(obj, "approve",
actor=...)`), the buttons on the detail page (`{% workflow_buttons object %}`), the step
pages and their URLs (`WORKFLOW.urls()`), the admin actions (`WorkflowAdminMixin`) and the
URL x role matrix's expectations. No FSM library: the table is ours. See docs/workflow.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from django import forms
from django.apps import apps
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.exceptions import TransitionNotAllowed


class _System:
    """The actor of a step nobody takes by hand (a command, the last approval, a signature)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "SYSTEM"

    def __bool__(self) -> bool:
        return True


SYSTEM = _System()

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

# Who takes a step: a person, or the system (explicitly, never None).
Actor = Union["AbstractUser", _System]


def audit_actor(actor):
    """The user an audit event names: nobody for the system."""
    return None if actor is SYSTEM else actor


class WorkflowDefinitionError(Exception):
    """The table itself is wrong (unknown state, duplicate name, missing permission...)."""


@dataclass(frozen=True)
class Note:
    """A free-text field the step asks for (a comment or a reason)."""

    required: bool = False
    label: Any = None


@dataclass(frozen=True)
class Step:
    """One row of the table. Only `name`, `from_`, `to`, `permission`, `service` and `label`
    are needed; the rest has defaults that suit most steps."""

    name: str
    from_: Any  # a state or a sequence of states the step leaves
    to: Any  # the state it reaches, a sequence of states the service chooses from, or None (stays)
    permission: str | None  # None: only the system takes the step
    service: str | Callable | None = None  # dotted path; None for a step taken inside another service
    label: Any = ""  # the button
    title: Any = ""  # the step page's heading and submit button (the label if empty)
    comment: Note | None = None
    reason: Note | None = None
    confirm: bool = True  # the button opens a page that asks to confirm; False: it posts at once
    ends: bool = False  # the step stops the document (cancel, terminate): set apart, always confirmed
    by_system: bool | None = None  # the system may take it too (default: only when no permission)
    visibility: str = "view"  # the `visible_to` action the actor needs on the object
    style: str = "btn-primary"
    success: Any = ""  # the message after the step, "%(object)s" for the object
    page: bool = True  # has a step page, URL and button (False: taken inside another service)
    button: bool = True  # shown among the detail page's buttons
    path: str = ""  # URL segment after "<pk>/"; the name with dashes if empty
    url_name: str = ""  # URL name inside the app's namespace; "<model>_<name>" if empty
    view: str | None = None  # dotted path of a StepView subclass for a page with more to show
    form: str | None = None  # dotted path of a form class (instead of the comment/reason form)
    when: Callable | None = None  # when(obj, user) -> bool: more to check before showing the button
    admin: Any = ""  # the admin action's description; empty: no admin action
    admin_done: Any = ""  # the admin's message, "%(count)d" for how many

    @property
    def sources(self) -> tuple:
        return tuple(self.from_) if _many(self.from_) else (self.from_,)

    @property
    def targets(self) -> tuple:
        if self.to is None:
            return ()
        return tuple(self.to) if _many(self.to) else (self.to,)

    @property
    def system_may(self) -> bool:
        return self.permission is None if self.by_system is None else self.by_system

    @property
    def page_title(self):
        return self.title or self.label

    @cached_property
    def service_function(self) -> Callable:
        return import_string(self.service) if isinstance(self.service, str) else self.service


def _many(value) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


_REGISTRY: list[Workflow] = []


class Workflow:
    """A model's steps, checked when declared."""

    def __init__(
        self,
        *,
        model: str,
        states,
        id_argument: str,
        steps: Sequence[Step],
        status_field: str = "status",
        cannot_become=None,
        register: bool = True,
    ):
        self.model_label = model
        self.states = states
        self.id_argument = id_argument
        self.status_field = status_field
        # "A contract that is %(current)s cannot become %(target)s."
        self.cannot_become = cannot_become or gettext_lazy("Something that is %(current)s cannot become %(target)s.")
        self.steps: dict[str, Step] = {}
        self._validate(steps)
        if register:
            _REGISTRY.append(self)

    # --- the table -------------------------------------------------------------------------

    def _validate(self, steps: Iterable[Step]) -> None:
        known = set(self.states)
        transitions: dict[tuple, str | None] = {}
        for step in steps:
            if step.name in self.steps:
                raise WorkflowDefinitionError(f"two steps are named {step.name!r}")
            unknown = [state for state in (*step.sources, *step.targets) if state not in known]
            if unknown or not step.sources:
                raise WorkflowDefinitionError(f"step {step.name!r} names unknown states {unknown}")
            if step.permission is None and not step.system_may:
                raise WorkflowDefinitionError(f"step {step.name!r} has no permission and the system may not take it")
            if step.page and step.permission is None:
                raise WorkflowDefinitionError(f"step {step.name!r} has a page but no permission")
            if step.page and step.service is None:
                raise WorkflowDefinitionError(f"step {step.name!r} has a page but no service")
            if step.ends and not step.confirm:
                raise WorkflowDefinitionError(f"step {step.name!r} ends the document, so it must ask to confirm")
            if step.visibility not in ("view", "change"):
                raise WorkflowDefinitionError(f"step {step.name!r}: visibility is 'view' or 'change'")
            for source in step.sources:
                for target in step.targets:
                    if (source, target) in transitions and transitions[(source, target)] != step.permission:
                        raise WorkflowDefinitionError(
                            f"step {step.name!r}: {source} -> {target} needs two different permissions"
                        )
                    transitions[(source, target)] = step.permission
            self.steps[step.name] = step

    def __iter__(self):
        return iter(self.steps.values())

    def __getitem__(self, name: str) -> Step:
        return self.steps[name]

    @property
    def transitions(self) -> dict:
        """{from: {to: permission}} for every state: the lifecycle as a plain map."""
        table: dict = {state: {} for state in self.states}
        for step in self:
            for source in step.sources:
                for target in step.targets:
                    if target != source:
                        table[source][target] = step.permission
        return table

    def can_transition(self, source, target) -> bool:
        return target in self.transitions.get(source, {})

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def app_label(self) -> str:
        return self.model_label.split(".")[0]

    def url_name(self, step: Step) -> str:
        name = step.url_name or f"{self.model_label.split('.')[1].lower()}_{step.name}"
        return f"{self.app_label}:{name}"

    def page_steps(self) -> list[Step]:
        return [step for step in self if step.page]

    # --- the check inside each service -------------------------------------------------------

    def check(self, obj, step_name: str, *, actor, target=None) -> Step:
        """Refuse the step unless the object's state and the actor allow it.

        `actor` is a user or `SYSTEM`, never None: a step the system takes says so.
        `target` names the outcome when the step may reach more than one state."""
        if actor is None:
            raise TypeError("pass actor=SYSTEM for a step the system takes")
        step = self.steps[step_name]
        current = self.states(getattr(obj, self.status_field))
        if target is not None and target not in step.targets:
            raise WorkflowDefinitionError(f"step {step_name!r} does not lead to {target}")
        if current not in step.sources:
            label = step.page_title or step.name
            shown = self.states(target).label if target is not None else None
            if shown is None and len(step.targets) == 1:
                shown = self.states(step.targets[0]).label
            if shown is not None:
                message = self.cannot_become % {"current": current.label.lower(), "target": shown.lower()}
            else:
                message = _("“%(step)s” is not possible while it is %(current)s.") % {
                    "step": capfirst(label),
                    "current": current.label.lower(),
                }
            raise TransitionNotAllowed(message)
        if actor is SYSTEM:
            if not step.system_may:
                raise TransitionNotAllowed(_("Only a person with the right role takes this step."))
        elif step.permission is None:
            raise TransitionNotAllowed(_("This step happens by itself; nobody takes it by hand."))
        elif not actor.has_perm(step.permission):
            raise TransitionNotAllowed(_("Your role may not take this step."))
        return step

    def run(self, step_name: str, *, actor, obj, **values):
        """Call the step's service on an object (the page, the admin and commands do)."""
        return self.steps[step_name].service_function(actor=actor, **{self.id_argument: obj.pk}, **values)

    # --- the buttons -------------------------------------------------------------------------

    def available(self, obj, user) -> list[Step]:
        """The steps with a button this user may take on this object now; the service still decides."""
        current = self.states(getattr(obj, self.status_field))
        visible: dict[str, bool] = {}
        steps = []
        for step in self:
            if not (step.page and step.button) or current not in step.sources:
                continue
            if not user.has_perm(step.permission):
                continue
            if step.visibility not in visible:
                queryset = type(obj).objects.visible_to(user, step.visibility)
                visible[step.visibility] = queryset.filter(pk=obj.pk).exists()
            if not visible[step.visibility]:
                continue
            if step.when is not None and not step.when(obj, user):
                continue
            steps.append(step)
        return steps

    # --- pages and URLs ----------------------------------------------------------------------

    def form_class(self, step: Step):
        if step.form:
            return import_string(step.form)
        fields = {}
        for name, note, default_label in (
            ("comment", step.comment, gettext_lazy("Comment")),
            ("reason", step.reason, gettext_lazy("Reason")),
        ):
            if note is not None:
                fields[name] = forms.CharField(
                    label=note.label or default_label,
                    required=note.required,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
        return type(f"{step.name.title().replace('_', '')}StepForm", (forms.Form,), fields)

    def view_class(self, step: Step):
        from crm.core.views import StepView

        base = import_string(step.view) if step.view else StepView
        model = self.model
        name = f"{model.__name__}{step.name.title().replace('_', '')}StepView"
        return type(
            name,
            (base,),
            {
                "__module__": base.__module__,
                "model": model,
                "workflow": self,
                "step": step,
                "permission_required": step.permission,
                "visibility_action": step.visibility,
                "form_class": self.form_class(step),
                "title": step.page_title,
                "success_message": step.success,
                "button_class": "btn-danger" if step.ends else base.button_class,
            },
        )

    def urls(self) -> list:
        """One URL per step page: "<pk>/<path>/" named as the table says."""
        from django.urls import path

        patterns = []
        for step in self.page_steps():
            segment = step.path or step.name.replace("_", "-")
            name = self.url_name(step).split(":", 1)[1]
            patterns.append(path(f"<int:pk>/{segment}/", self.view_class(step).as_view(), name=name))
        return patterns

    # --- admin actions -----------------------------------------------------------------------

    def admin_steps(self) -> list[Step]:
        return [step for step in self if step.admin and step.service is not None]


def workflows() -> list[Workflow]:
    """Every declared workflow (each app's workflow module is imported by its models)."""
    return list(_REGISTRY)


def workflow_for(obj) -> Workflow:
    label = obj._meta.label
    for workflow in _REGISTRY:
        if workflow.model_label == label:
            return workflow
    raise LookupError(f"no workflow is declared for {label}")


def buttons(obj, user) -> list[dict]:
    """The detail page's workflow buttons for this user now, in the table's order; the
    buttons partial (`partials/_workflow_buttons.html`) sets apart those that end the document."""
    from django.urls import reverse

    workflow = workflow_for(obj)
    return [
        {
            "name": step.name,
            "url": reverse(workflow.url_name(step), args=[obj.pk]),
            "label": step.label,
            "style": step.style,
            "confirm": step.confirm and not step.ends,
            "ends": step.ends,
        }
        for step in workflow.available(obj, user)
    ]
