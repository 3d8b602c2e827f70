"""The workflow engine itself: the table is checked when declared, `check()` enforces it with an
explicit system actor, and the buttons, step pages, URLs and admin actions all come from it."""

import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import resolve, reverse

from contracts.choices import ContractStatus
from contracts.tests.factories import ContractFactory, default_approval_rules, pending_contract, reload
from contracts.workflow import WORKFLOW as CONTRACTS
from crm.core.exceptions import TransitionNotAllowed
from crm.core.roles import Role
from crm.core.tests.factories import user_with_role
from crm.core.views import StepView
from crm.core.workflow import SYSTEM, Note, Step, Workflow, WorkflowDefinitionError, workflows
from orders.models import Order
from orders.workflow import WORKFLOW as ORDERS


class Light(models.TextChoices):
    RED = "red", "Red"
    GREEN = "green", "Green"
    OFF = "off", "Off"


def light_workflow(*steps):
    return Workflow(model="crm_core.Light", states=Light, id_argument="light_id", steps=list(steps), register=False)


def go(**overrides):
    values = {
        "name": "go",
        "from_": Light.RED,
        "to": Light.GREEN,
        "permission": "lights.go",
        "service": "builtins.print",
        "label": "Go",
    }
    return Step(**{**values, **overrides})


class Obj:
    def __init__(self, status):
        self.status = status


class Person:
    def __init__(self, *permissions):
        self.permissions = set(permissions)

    def has_perm(self, permission):
        return permission in self.permissions


# --- the table is checked when it is declared ------------------------------------------------


def test_a_step_naming_an_unknown_state_is_refused():
    with pytest.raises(WorkflowDefinitionError, match="unknown states"):
        light_workflow(go(to="blue"))
    with pytest.raises(WorkflowDefinitionError, match="unknown states"):
        light_workflow(go(from_=["red", "amber"]))


def test_two_steps_with_one_name_are_refused():
    with pytest.raises(WorkflowDefinitionError, match="two steps are named 'go'"):
        light_workflow(go(), go(from_=Light.OFF))


def test_a_step_page_needs_a_permission_and_a_service():
    with pytest.raises(WorkflowDefinitionError, match="has a page but no permission"):
        light_workflow(go(permission=None))
    with pytest.raises(WorkflowDefinitionError, match="has a page but no service"):
        light_workflow(go(service=None))
    light_workflow(go(permission=None, service=None, page=False))  # a system step is fine


def test_a_step_that_ends_the_document_must_ask_to_confirm():
    with pytest.raises(WorkflowDefinitionError, match="must ask to confirm"):
        light_workflow(go(name="off", to=Light.OFF, ends=True, confirm=False))


def test_one_transition_cannot_need_two_permissions():
    with pytest.raises(WorkflowDefinitionError, match="two different permissions"):
        light_workflow(go(), go(name="go_too", permission="lights.other"))


def test_the_transitions_map_is_derived_from_the_steps():
    workflow = light_workflow(
        go(),
        go(name="switch_off", from_=[Light.RED, Light.GREEN], to=Light.OFF, permission="lights.off"),
        go(name="note", from_=Light.GREEN, to=None, permission="lights.note"),  # stays: no transition
    )
    assert workflow.transitions == {
        Light.RED: {Light.GREEN: "lights.go", Light.OFF: "lights.off"},
        Light.GREEN: {Light.OFF: "lights.off"},
        Light.OFF: {},
    }


def test_the_real_tables_are_registered_and_name_every_state():
    assert {workflow.model_label for workflow in workflows()} >= {"contracts.Contract", "orders.Order"}
    assert set(CONTRACTS.transitions) == set(ContractStatus)


# --- check(): state, permission and an explicit system actor -------------------------------------

SYSTEM_ONLY = go(name="auto", to=Light.OFF, permission=None, page=False, service=None)
BOTH = go(name="both", from_=Light.GREEN, to=Light.OFF, by_system=True)


@pytest.fixture
def lights():
    return light_workflow(go(), SYSTEM_ONLY, BOTH)


def test_check_refuses_a_step_from_the_wrong_state(lights):
    with pytest.raises(TransitionNotAllowed, match="that is green cannot become green"):
        lights.check(Obj(Light.GREEN), "go", actor=Person("lights.go"))


def test_check_refuses_an_actor_without_the_permission(lights):
    with pytest.raises(TransitionNotAllowed, match="Your role may not take this step"):
        lights.check(Obj(Light.RED), "go", actor=Person())
    assert lights.check(Obj(Light.RED), "go", actor=Person("lights.go")).name == "go"


def test_nobody_takes_a_system_step_by_hand(lights):
    with pytest.raises(TransitionNotAllowed, match="happens by itself"):
        lights.check(Obj(Light.RED), "auto", actor=Person("lights.go"))
    assert lights.check(Obj(Light.RED), "auto", actor=SYSTEM).name == "auto"


def test_the_system_takes_only_the_steps_the_table_lets_it(lights):
    with pytest.raises(TransitionNotAllowed, match="Only a person"):
        lights.check(Obj(Light.RED), "go", actor=SYSTEM)
    assert lights.check(Obj(Light.GREEN), "both", actor=SYSTEM).name == "both"


def test_no_actor_is_an_error_not_a_skipped_check(lights):
    """In orders `actor=None` used to skip the permission check; now the system says so."""
    with pytest.raises(TypeError, match="SYSTEM"):
        lights.check(Obj(Light.RED), "go", actor=None)


def test_a_step_with_several_outcomes_checks_the_one_chosen():
    workflow = light_workflow(go(to=[Light.GREEN, Light.OFF]))
    workflow.check(Obj(Light.RED), "go", actor=Person("lights.go"), target=Light.OFF)
    with pytest.raises(WorkflowDefinitionError):
        workflow.check(Obj(Light.RED), "go", actor=Person("lights.go"), target=Light.RED)


def test_a_form_is_made_from_the_comment_and_reason_the_step_asks_for(lights):
    step = go(comment=Note(required=False), reason=Note(required=True, label="Why?"))
    form_class = lights.form_class(step)
    assert not form_class({"reason": ""}).is_valid()
    form = form_class({"reason": "Broken"})
    assert form.is_valid() and form.cleaned_data == {"comment": "", "reason": "Broken"}
    assert str(form_class().fields["reason"].label) == "Why?"


# --- buttons per role ------------------------------------------------------------------------------


def labels(client, url):
    return [str(action["label"]) for action in client.get(url).context["actions"]]


@pytest.mark.django_db
def test_buttons_are_the_steps_each_role_may_take_now(client_for, rep, manager, finance):
    default_approval_rules()
    contract = ContractFactory(owner=rep)
    url = contract.get_absolute_url()
    assert labels(client_for(rep), url) == ["Submit for approval", "Cancel contract"]
    assert labels(client_for(finance), url) == []  # sees it, may take no step
    assert labels(client_for(manager), url) == ["Submit for approval", "Cancel contract"]  # may change any

    submitted = pending_contract(owner=rep)
    assert labels(client_for(rep), submitted.get_absolute_url()) == ["Cancel contract"]


@pytest.mark.django_db
def test_ending_steps_stand_apart_and_open_a_confirmation(client_for, rep):
    """Issue 10: a red Cancel next to Submit read like "go back" and cancelled the contract."""
    contract = ContractFactory(owner=rep)
    client = client_for(rep)
    html = client.get(contract.get_absolute_url()).content.decode()
    ending = html[html.index('data-testid="ending-steps"') :]
    submit = reverse("contracts:contract_submit", args=[contract.pk])
    cancel = reverse("contracts:contract_cancel", args=[contract.pk])
    assert cancel in ending and submit not in ending
    assert f'<a class="btn btn-outline-danger" href="{cancel}"' in ending  # a link to a page, never a POST

    page = client.get(cancel)
    assert page.status_code == 200
    assert "This ends the contract; it cannot be undone." in page.content.decode()
    assert reload(contract).status == ContractStatus.DRAFT


# --- generated step views and URLs -------------------------------------------------------------


@pytest.mark.parametrize("workflow", [CONTRACTS, ORDERS], ids=["contracts", "orders"])
def test_every_step_page_has_a_url_served_by_a_view_made_from_its_row(workflow):
    for step in workflow.page_steps():
        view_class = resolve(reverse(workflow.url_name(step), args=[1])).func.view_class
        assert issubclass(view_class, StepView)
        assert view_class.step is step
        assert view_class.permission_required == step.permission
        assert view_class.visibility_action == step.visibility


def test_url_names_stay_those_the_templates_and_matrix_know():
    assert {CONTRACTS.url_name(step) for step in CONTRACTS.page_steps()} == {
        "contracts:contract_submit",
        "contracts:contract_approve",
        "contracts:contract_reject",
        "contracts:contract_reopen",
        "contracts:contract_cancel",
        "contracts:contract_sign",
        "contracts:signing_link_send",
        "contracts:contract_complete",
        "contracts:contract_terminate",
    }
    assert {ORDERS.url_name(step) for step in ORDERS.page_steps()} == {
        f"orders:order_{name}"
        for name in ("submit", "approve", "reject", "start_fulfilment", "deliver", "close", "cancel")
    }
    assert reverse("orders:order_start_fulfilment", args=[7]) == "/orders/7/start-fulfilment/"
    assert reverse("contracts:signing_link_send", args=[7]) == "/contracts/7/signing-link/"


# --- admin actions -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_actions_come_from_the_table_for_whoever_holds_the_step_permission(admin_user):
    request = RequestFactory().get("/")
    order_admin = admin.site._registry[Order]

    request.user = admin_user
    assert set(order_admin.get_actions(request)) >= {
        "approve_selected",
        "start_fulfilment_selected",
        "deliver_selected",
        "close_selected",
    }
    request.user = user_with_role(Role.SALES_REP)
    request.user.is_staff = True
    assert not {"approve_selected", "close_selected"} & set(order_admin.get_actions(request))
    _func, _name, description = order_admin.get_actions(_as(admin_user))["close_selected"]
    assert str(description) == "Close selected delivered orders"


def _as(user):
    request = RequestFactory().get("/")
    request.user = user
    return request
