import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.choices import ActivityKind, CustomerStatus, Industry, InteractionKind
from customers.models import Activity, Contact, Customer, Interaction, Opportunity


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Acme Trading {n} Ltd")
    industry = Industry.MANUFACTURING
    status = CustomerStatus.ACTIVE
    email = factory.Sequence(lambda n: f"buyer{n}@acme{n}.example.com")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    owner = factory.SubFactory(UserFactory, role=Role.SALES_REP)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    title = "Purchasing manager"
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = InteractionKind.CALL
    subject = factory.Sequence(lambda n: f"Follow-up call {n}")
    author = factory.LazyAttribute(lambda interaction: interaction.customer.owner)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A deal written directly (no stage history); tests of the steps use the services."""

    class Meta:
        model = Opportunity

    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Conveyor upgrade {n}")
    owner = factory.LazyAttribute(lambda opportunity: opportunity.customer.owner)
    amount = Decimal("100000.00")
    currency = "CNY"
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    customer = factory.SubFactory(CustomerFactory)
    kind = ActivityKind.CALL
    subject = factory.Sequence(lambda n: f"Call the buyer {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))
    assignee = factory.LazyAttribute(lambda activity: activity.customer.owner)
    created_by = factory.LazyAttribute(lambda activity: activity.assignee)
