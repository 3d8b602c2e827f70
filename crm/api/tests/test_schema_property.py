"""A property-based run of schemathesis against the live schema (/api/schema/, as a rep and
as a manager): for every operation a few generated requests, and no answer may be a 500 or
break the schema (status codes, content types, bodies). Kept small (API_FUZZ_EXAMPLES
per operation) so it runs in the normal suite."""

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_wsgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts.tests.factories import ContractFactory
from crm.wsgi import application
from customers.tests.factories import ContactFactory, CustomerFactory, InteractionFactory, OpportunityFactory
from orders.tests.factories import ProductFactory, line, order_for
from service.tests.factories import ticket_for

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def seed(rep):
    customer = CustomerFactory(owner=rep, notes="Call 13912345678")
    ContactFactory(customer=customer)
    InteractionFactory(customer=customer, author=rep)
    OpportunityFactory(customer=customer)
    ContractFactory(owner=rep, customer=customer)
    order_for(rep, customer, lines=[line(ProductFactory())])
    ticket_for(customer)


def run_every_operation(headers):
    schema = from_wsgi("/api/schema/?format=json", application, headers=headers)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except Exception as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(error)[:600]}")
    return failures


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["rep", "manager"])
def test_no_generated_request_answers_500_or_breaks_the_schema(request, token_for, rep, role):
    seed(rep)
    user = request.getfixturevalue(role)
    headers = {"Authorization": f"Bearer {token_for(user)}"}

    failures = run_every_operation(headers)

    assert not failures, "\n\n".join(failures)
