"""Segments, campaigns and audiences for tests, made through the services."""

from customers.models import Contact
from customers.tests.factories import ContactFactory, CustomerFactory
from marketing import services


def audience(owner, count, *, consent=True, prefix="reader", language="en", **customer_values):
    """`count` customers owned by `owner`, each with one contact (bulk-created)."""
    customers = [CustomerFactory.build(owner=owner, **customer_values) for _ in range(count)]
    from customers.models import Customer

    Customer.objects.bulk_create(customers)
    saved = list(Customer.objects.filter(owner=owner).order_by("-pk")[:count])
    contacts = [
        Contact(
            customer=customer,
            name=f"{prefix.title()} {index}",
            email=f"{prefix}{index}@example.com",
            phone=f"139{index:08d}",
            marketing_consent=consent,
            language=language,
        )
        for index, customer in enumerate(saved)
    ]
    Contact.objects.bulk_create(contacts)
    return saved


def segment_for(owner, **values):
    return services.segment_create(actor=owner, name=values.pop("name", "Active customers"), **values)


def campaign_for(owner, segment, **values):
    defaults = {
        "name": "Spring launch",
        "language": "en",
        "subject_en": "News for {{ customer.name }}",
        "body_en": "Dear {{ contact.name }},\n\nsee https://shop.example.com/spring for our teas.\n\n{{ sender.name }}",
        "subject_zh": "{{ customer.name }}，春季新品",
        "body_zh": "{{ contact.name }}，您好！\n\n新品请看 https://shop.example.com/spring 。",
        "rate_per_minute": 60_000,
    }
    return services.campaign_create(actor=owner, segment=segment, **{**defaults, **values})


def one_contact(customer, **values):
    return ContactFactory(customer=customer, marketing_consent=values.pop("marketing_consent", True), **values)
