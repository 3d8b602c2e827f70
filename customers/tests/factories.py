import factory

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.choices import CustomerStatus, Industry, InteractionKind
from customers.models import Contact, Customer, Interaction


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
