"""Contract templates: placeholders filled from the customer and terms, required clauses."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from contracts import services
from contracts.models import ContractTemplate
from contracts.templating import PLACEHOLDERS, clauses_missing, placeholders_unknown, template_render
from contracts.tests.factories import (
    TEMPLATE_BODY,
    ContractFactory,
    ContractTemplateFactory,
    assert_audited,
    default_approval_rules,
)
from crm.core.exceptions import DomainError
from crm.core.models import AuditEvent
from customers.tests.factories import CustomerFactory

VALUES = {
    "customer_name": "Hangzhou Tea Co",
    "customer_address": "1 West Lake Road, Hangzhou",
    "customer_email": "buyer@tea.example.com",
    "contract_title": "Tea supply 2026",
    "amount": "1,234,567.50",
    "currency": "CNY",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "payment_terms_days": 45,
    "company_name": "Our Company Ltd.",
}


@pytest.fixture
def customer(rep):
    return CustomerFactory(
        owner=rep,
        name="Hangzhou Tea Co",
        address="1 West Lake Road, Hangzhou",
        email="buyer@tea.example.com",
    )


# --- template_render ---------------------------------------------------------------------


def test_template_render_fills_every_placeholder():
    body = " | ".join(f"${{{name}}}" for name in sorted(PLACEHOLDERS))
    rendered = template_render(body, VALUES)
    assert rendered == " | ".join(str(VALUES[name]) for name in sorted(PLACEHOLDERS))
    assert "$" not in rendered


def test_template_render_keeps_a_doubled_dollar_as_a_dollar_sign():
    assert template_render("Fee: $$100 for ${customer_name}", VALUES) == "Fee: $100 for Hangzhou Tea Co"


def test_template_render_accepts_placeholders_without_braces():
    assert template_render("Dear $customer_name,", VALUES) == "Dear Hangzhou Tea Co,"


def test_values_are_not_read_as_placeholders():
    values = {**VALUES, "customer_name": "Evil ${company_name} $$ $ Ltd"}
    assert template_render("${customer_name}", values) == "Evil ${company_name} $$ $ Ltd"


@pytest.mark.parametrize("body", ["${customer_phone}", "$secret and ${amount}", "${Customer_Name}"])
def test_template_render_refuses_unknown_placeholders(body):
    with pytest.raises(DomainError) as refused:
        template_render(body, VALUES)
    assert "unknown placeholders" in refused.value.message


@pytest.mark.parametrize("body", ["Price: $ 100", "Costs $5", "${amount", "trailing $", "${ amount }"])
def test_template_render_refuses_a_dollar_that_is_not_a_placeholder(body):
    assert placeholders_unknown(body)
    with pytest.raises(DomainError):
        template_render(body, VALUES)


def test_template_render_refuses_missing_values():
    values = dict(VALUES)
    del values["customer_email"]
    with pytest.raises(DomainError) as refused:
        template_render("${customer_name}", values)
    assert "customer_email" in refused.value.message


def test_placeholders_unknown_names_only_the_unknown_ones():
    assert placeholders_unknown("${customer_name} ${colour} $size ${amount}") == {"colour", "size"}
    assert placeholders_unknown("No placeholders at all, $$5.") == set()


# --- ContractTemplate validation ----------------------------------------------------------------


def test_a_template_with_an_unknown_placeholder_does_not_validate(db):
    template = ContractTemplate(name="Bad", body="Dear ${customer_nickname}, ${amount}")
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert "body" in refused.value.message_dict
    assert "customer_nickname" in refused.value.message_dict["body"][0]


@pytest.mark.parametrize("body", ["Pay $ 100 now", "Costs $5", "${amount"])
def test_a_template_misusing_the_dollar_does_not_validate(db, body):
    with pytest.raises(ValidationError) as refused:
        ContractTemplate(name="Dollars", body=body).full_clean()
    assert "$$" in refused.value.message_dict["body"][0]


def test_a_template_with_known_placeholders_and_dollars_validates(db):
    ContractTemplateFactory.build(body="${customer_name} pays $$100 in ${currency}").full_clean()


@pytest.mark.parametrize("clauses", ["Confidentiality", ["Scope", ""], ["Scope", 3], [" "], {"a": 1}])
def test_required_clauses_must_be_a_list_of_headings(db, clauses):
    with pytest.raises(ValidationError) as refused:
        ContractTemplateFactory.build(required_clauses=clauses).full_clean()
    assert "required_clauses" in refused.value.message_dict


# --- drafting from a template -------------------------------------------------------------------


def test_contract_create_fills_the_template_from_customer_and_terms(rep, customer, settings):
    settings.COMPANY_NAME = "Our Company Ltd."
    template = ContractTemplateFactory(name="Supply")
    contract = ContractFactory(
        owner=rep,
        customer=customer,
        template=template,
        body="",
        title="Tea supply 2026",
        amount=Decimal("1234567.50"),
        currency="CNY",
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
        payment_terms_days=45,
    )

    assert contract.template == template
    assert contract.body == (
        "SUPPLY AGREEMENT Tea supply 2026\n"
        "Between Our Company Ltd. and Hangzhou Tea Co, 1 West Lake Road, Hangzhou "
        "(buyer@tea.example.com).\n"
        "1. Scope\n"
        "2. Price: 1,234,567.50 CNY, payable within 45 days.\n"
        "3. Term: from 2026-01-01 to 2026-12-31.\n"
        "4. Confidentiality\n"
        "5. Governing law\n"
    )
    event = assert_audited(contract, "contract.created", actor=rep, extra={"template": "Supply"})
    assert event.changes["body"] == [None, contract.body]


def test_contract_create_fills_the_template_with_default_terms(rep, customer, settings):
    settings.DEFAULT_CURRENCY = "USD"
    template = ContractTemplateFactory(body="${currency}, ${payment_terms_days} days")
    contract = services.contract_create(
        actor=rep,
        customer_id=customer.pk,
        template_id=template.pk,
        title="Defaults",
        amount=Decimal("100.00"),
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 2, 1),
    )
    assert contract.body == "USD, 30 days"
    assert_audited(contract, "contract.created", actor=rep)


def test_a_body_given_with_the_template_is_kept(rep, customer):
    template = ContractTemplateFactory()
    contract = ContractFactory(owner=rep, customer=customer, template=template, body="Negotiated text")
    assert contract.body == "Negotiated text"
    assert contract.template == template


def test_contract_create_refuses_a_template_with_an_unknown_placeholder(rep, customer):
    template = ContractTemplate.objects.create(name="Stale", body="Dear ${customer_nickname}")
    with pytest.raises(DomainError):
        ContractFactory(owner=rep, customer=customer, template=template, body="")
    assert not customer.contracts.exists()


# --- required clauses -----------------------------------------------------------------------


def test_clauses_missing_is_case_insensitive_and_keeps_the_order():
    body = "1. SCOPE\n2. confidentiality\n3. Price"
    required = ["Scope", "Governing law", "Confidentiality", "  Force majeure "]
    assert clauses_missing(body, required) == ["Governing law", "  Force majeure "]
    assert clauses_missing(body, []) == []


def test_submitting_lists_the_missing_required_clauses(rep, customer):
    default_approval_rules()
    template = ContractTemplateFactory(required_clauses=["Confidentiality", "Governing Law", "Force majeure"])
    contract = ContractFactory(
        owner=rep, customer=customer, template=template, body="1. Scope\n2. GOVERNING LAW: PRC\n"
    )
    contract = services.contract_submit(actor=rep, contract_id=contract.pk)
    assert_audited(
        contract,
        "contract.submitted",
        actor=rep,
        changes={"status": ["draft", "pending_approval"]},
        extra={"missing_clauses": ["Confidentiality", "Force majeure"]},
    )


def test_submitting_a_complete_contract_lists_no_missing_clauses(rep, customer):
    default_approval_rules()
    template = ContractTemplateFactory()  # requires Confidentiality and Governing law
    contract = ContractFactory(owner=rep, customer=customer, template=template, body="")
    contract = services.contract_submit(actor=rep, contract_id=contract.pk)
    assert_audited(contract, "contract.submitted", actor=rep, extra={"missing_clauses": []})


# --- contract_template_save -------------------------------------------------------------------


def test_contract_template_save_records_the_new_template(admin_user):
    template = ContractTemplate(name="NDA", body="${customer_name} keeps it secret.", required_clauses=["Secret"])
    template = services.contract_template_save(actor=admin_user, template=template)
    event = AuditEvent.objects.order_by("id").last()
    assert (event.action, event.actor, event.target_id) == ("contracttemplate.created", admin_user, str(template.pk))
    assert event.changes["body"] == [None, "${customer_name} keeps it secret."]
    assert event.changes["required_clauses"] == [None, ["Secret"]]


def test_contract_template_save_records_what_changed(admin_user):
    template = ContractTemplateFactory(name="NDA")
    template.body = "${customer_name} and ${company_name} keep it secret."
    services.contract_template_save(actor=admin_user, template=template)
    event = AuditEvent.objects.order_by("id").last()
    assert (event.action, event.actor) == ("contracttemplate.updated", admin_user)
    assert event.changes == {"body": [TEMPLATE_BODY, template.body]}


@pytest.mark.parametrize("body", ["Dear ${customer_nickname}", "Pay $ 100"])
def test_contract_template_save_refuses_a_body_that_would_not_render(admin_user, body):
    with pytest.raises(ValidationError) as refused:
        services.contract_template_save(actor=admin_user, template=ContractTemplate(name="Bad", body=body))
    assert "body" in refused.value.message_dict
    assert not ContractTemplate.objects.filter(name="Bad").exists()
    assert not AuditEvent.objects.filter(action__startswith="contracttemplate.").exists()


@pytest.mark.parametrize("role", ["rep", "manager", "finance"])
def test_only_admins_save_templates(request, role):
    user = request.getfixturevalue(role)
    with pytest.raises(DomainError):
        services.contract_template_save(actor=user, template=ContractTemplate(name="Mine", body="Hello"))
    assert not ContractTemplate.objects.exists()
