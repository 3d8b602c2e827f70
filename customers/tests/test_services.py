import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.core.exceptions import DomainError, DuplicateRecord
from crm.core.models import AuditEvent
from customers import services
from customers.models import Contact, Customer, Interaction
from customers.tests.factories import ContactFactory, CustomerFactory, InteractionFactory


def only_event(action):
    """The single audit event with this action code."""
    return AuditEvent.objects.get(action=action)


@pytest.fixture
def customer(rep):
    return CustomerFactory(
        owner=rep,
        name="Acme Trading Ltd",
        email="Buyer@Acme.example.com",
        phone="+86 138-0013-5678",
        status="active",
    )


@pytest.fixture
def others_customer(other_rep):
    return CustomerFactory(owner=other_rep, name="Beta Foods", email="info@beta.example.com", phone="021 5555 0101")


# --- customer_create ---------------------------------------------------------------------------------


def test_customer_create_saves_the_customer_owned_by_the_actor(rep):
    customer = services.customer_create(actor=rep, name="Gamma Steel", email="sales@gamma.example.com")

    stored = Customer.objects.get(pk=customer.pk)
    assert stored.name == "Gamma Steel"
    assert stored.owner == rep
    assert stored.status == "lead"


def test_customer_create_records_every_field_in_the_audit_trail(rep):
    customer = services.customer_create(actor=rep, name="Gamma Steel", phone="13900001111", tier="key")

    event = only_event("customer.created")
    assert event.actor == rep
    assert event.target_id == str(customer.pk)
    assert event.changes["name"] == [None, "Gamma Steel"]
    assert event.changes["phone"] == [None, "13900001111"]
    assert event.changes["tier"] == [None, "key"]
    assert event.changes["owner"] == [None, "rep"]


def test_manager_can_create_a_customer_for_a_rep(manager, rep):
    customer = services.customer_create(actor=manager, name="Delta Ltd", owner=rep)
    assert customer.owner == rep


def test_rep_cannot_create_a_customer_for_someone_else(rep, other_rep):
    with pytest.raises(DomainError) as refusal:
        services.customer_create(actor=rep, name="Delta Ltd", owner=other_rep)
    assert refusal.value.field == "owner"
    assert not Customer.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_role_without_add_permission_cannot_create_customers(agent):
    with pytest.raises(DomainError):
        services.customer_create(actor=agent, name="Delta Ltd")
    assert not Customer.objects.exists()


def test_customer_create_refuses_an_invalid_email(rep):
    with pytest.raises(ValidationError) as refusal:
        services.customer_create(actor=rep, name="Delta Ltd", email="not-an-email")
    assert "email" in refusal.value.message_dict
    assert not Customer.objects.exists()


# --- duplicates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("email", {"name": "Other name", "email": "  BUYER@acme.EXAMPLE.com "}),
        ("phone", {"name": "Other name", "phone": "8613800135678"}),
        ("name", {"name": "  acme   TRADING ltd "}),
    ],
)
def test_duplicate_of_own_customer_is_refused_naming_it(rep, customer, field, values):
    with pytest.raises(DuplicateRecord) as refusal:
        services.customer_create(actor=rep, **values)

    assert refusal.value.field == field
    assert refusal.value.existing == customer
    assert "Acme Trading Ltd" in refusal.value.message
    assert Customer.objects.count() == 1
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "values",
    [
        {"name": "New name", "email": "INFO@beta.example.com"},
        {"name": "New name", "phone": "(021) 5555-0101"},
        {"name": "beta  foods"},
    ],
)
def test_duplicate_of_someone_elses_customer_is_refused_without_naming_it(rep, others_customer, values):
    with pytest.raises(DuplicateRecord) as refusal:
        services.customer_create(actor=rep, **values)

    assert refusal.value.existing is None
    assert "Beta Foods" not in refusal.value.message
    assert "another owner" in refusal.value.message
    assert Customer.objects.count() == 1


def test_manager_sees_the_name_of_a_reps_duplicate(manager, others_customer):
    with pytest.raises(DuplicateRecord) as refusal:
        services.customer_create(actor=manager, name="BETA FOODS")
    assert refusal.value.existing == others_customer
    assert "Beta Foods" in refusal.value.message


def test_blank_email_and_phone_are_not_duplicates_of_each_other(rep):
    services.customer_create(actor=rep, name="First")
    services.customer_create(actor=rep, name="Second")
    assert Customer.objects.count() == 2


def test_customer_update_refuses_to_become_a_duplicate(rep, customer):
    second = CustomerFactory(owner=rep, name="Second Co")
    with pytest.raises(DuplicateRecord) as refusal:
        services.customer_update(actor=rep, customer_id=second.pk, phone="86 138 0013 5678")
    assert refusal.value.field == "phone"
    second.refresh_from_db()
    assert second.phone != "86 138 0013 5678"


def test_customer_update_keeping_its_own_name_is_not_a_duplicate(rep, customer):
    services.customer_update(actor=rep, customer_id=customer.pk, name="ACME Trading Ltd")
    customer.refresh_from_db()
    assert customer.name == "ACME Trading Ltd"


@pytest.mark.parametrize(
    "values",
    [
        {"name": "ACME   trading ltd"},
        {"name": "Other", "email": "buyer@acme.example.com"},
        {"name": "Other", "phone": "86-138-0013-5678"},
    ],
)
def test_database_refuses_duplicates_that_bypass_the_service(rep, customer, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(owner=rep, **values)


# --- customer_update ---------------------------------------------------------------------------------


def test_customer_update_saves_and_records_old_and_new_values(rep, customer):
    before = customer.updated_at
    services.customer_update(actor=rep, customer_id=customer.pk, status="churned", notes="Lost to a rival")

    customer.refresh_from_db()
    assert customer.status == "churned"
    assert customer.updated_at > before
    event = only_event("customer.updated")
    assert event.actor == rep
    assert event.target_id == str(customer.pk)
    assert event.changes == {"status": ["active", "churned"], "notes": ["", "Lost to a rival"]}


def test_customer_update_without_a_change_records_nothing(rep, customer):
    services.customer_update(actor=rep, customer_id=customer.pk, name=customer.name)
    assert not AuditEvent.objects.exists()


def test_rep_cannot_update_another_reps_customer(other_rep, customer):
    with pytest.raises(DomainError):
        services.customer_update(actor=other_rep, customer_id=customer.pk, name="Hijacked")
    customer.refresh_from_db()
    assert customer.name == "Acme Trading Ltd"
    assert not AuditEvent.objects.exists()


def test_read_only_role_cannot_update_a_customer_it_can_see(agent, customer):
    with pytest.raises(DomainError):
        services.customer_update(actor=agent, customer_id=customer.pk, name="Changed")


def test_manager_can_update_any_customer(manager, customer):
    services.customer_update(actor=manager, customer_id=customer.pk, tier="strategic")
    customer.refresh_from_db()
    assert customer.tier == "strategic"
    assert only_event("customer.updated").actor == manager


def test_manager_changing_the_owner_records_both_owners_by_name(manager, other_rep, customer):
    services.customer_update(actor=manager, customer_id=customer.pk, owner=other_rep)
    customer.refresh_from_db()
    assert customer.owner == other_rep
    assert only_event("customer.updated").changes == {"owner": ["rep", "other_rep"]}


def test_rep_cannot_give_own_customer_away_by_editing_the_owner(rep, other_rep, customer):
    with pytest.raises(DomainError):
        services.customer_update(actor=rep, customer_id=customer.pk, owner=other_rep)
    customer.refresh_from_db()
    assert customer.owner == rep


# --- customer_delete ---------------------------------------------------------------------------------


def test_customer_delete_removes_it_and_records_what_was_lost(rep, customer):
    ContactFactory(customer=customer)
    InteractionFactory(customer=customer)
    services.customer_delete(actor=rep, customer_id=customer.pk)

    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not Contact.objects.exists()
    event = only_event("customer.deleted")
    assert event.actor == rep
    assert event.target_repr == "Acme Trading Ltd"
    assert event.changes["name"] == ["Acme Trading Ltd", None]
    assert event.changes["email"] == ["Buyer@Acme.example.com", None]
    assert event.extra == {"contacts": 1, "interactions": 1}


def test_rep_cannot_delete_another_reps_customer(other_rep, customer):
    with pytest.raises(DomainError):
        services.customer_delete(actor=other_rep, customer_id=customer.pk)
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert not AuditEvent.objects.exists()


def test_finance_cannot_delete_a_customer_it_can_see(finance, customer):
    with pytest.raises(DomainError):
        services.customer_delete(actor=finance, customer_id=customer.pk)
    assert Customer.objects.filter(pk=customer.pk).exists()


# --- customer_reassign -------------------------------------------------------------------------------


def test_manager_reassigns_customers_and_each_change_is_recorded(manager, rep, other_rep, customer):
    second = CustomerFactory(owner=rep, name="Second Co")

    moved = services.customer_reassign(actor=manager, customer_ids=[customer.pk, second.pk], new_owner=other_rep)

    assert moved == 2
    assert set(Customer.objects.values_list("owner", flat=True)) == {other_rep.pk}
    events = AuditEvent.objects.filter(action="customer.reassigned").order_by("id")
    assert [event.target_id for event in events] == [str(customer.pk), str(second.pk)]
    assert all(event.actor == manager for event in events)
    assert events[0].changes == {"owner": ["rep", "other_rep"]}


def test_reassign_to_the_current_owner_changes_nothing(manager, rep, customer):
    assert services.customer_reassign(actor=manager, customer_ids=[customer.pk], new_owner=rep) == 0
    assert not AuditEvent.objects.exists()


def test_rep_cannot_reassign_even_own_customers(rep, other_rep, customer):
    with pytest.raises(DomainError):
        services.customer_reassign(actor=rep, customer_ids=[customer.pk], new_owner=other_rep)
    customer.refresh_from_db()
    assert customer.owner == rep
    assert not AuditEvent.objects.exists()


def test_customers_cannot_be_given_to_a_non_sales_user(manager, agent, customer):
    with pytest.raises(DomainError) as refusal:
        services.customer_reassign(actor=manager, customer_ids=[customer.pk], new_owner=agent)
    assert refusal.value.field == "owner"
    customer.refresh_from_db()
    assert customer.owner.username == "rep"


# --- contacts ----------------------------------------------------------------------------------------


def test_contact_create_adds_it_to_the_customer_and_records_it(rep, customer):
    contact = services.contact_create(
        actor=rep, customer_id=customer.pk, name="Wang Fang", email="wang@acme.example.com", is_primary=True
    )

    assert list(customer.contacts.all()) == [contact]
    event = only_event("contact.created")
    assert event.actor == rep
    assert event.target_id == str(contact.pk)
    assert event.parent_id == str(customer.pk)
    assert event.changes["name"] == [None, "Wang Fang"]
    assert event.changes["is_primary"] == [None, True]


def test_rep_cannot_add_a_contact_to_another_reps_customer(other_rep, customer):
    with pytest.raises(DomainError):
        services.contact_create(actor=other_rep, customer_id=customer.pk, name="Spy")
    assert not Contact.objects.exists()


def test_contact_update_records_old_and_new_values(rep, customer):
    contact = ContactFactory(customer=customer, name="Wang Fang", title="Buyer")

    services.contact_update(actor=rep, contact_id=contact.pk, title="Head of purchasing")

    contact.refresh_from_db()
    assert contact.title == "Head of purchasing"
    event = only_event("contact.updated")
    assert event.actor == rep
    assert event.parent_id == str(customer.pk)
    assert event.changes == {"title": ["Buyer", "Head of purchasing"]}


def test_rep_cannot_update_a_contact_of_another_reps_customer(other_rep, customer):
    contact = ContactFactory(customer=customer, title="Buyer")
    with pytest.raises(DomainError):
        services.contact_update(actor=other_rep, contact_id=contact.pk, title="Changed")
    contact.refresh_from_db()
    assert contact.title == "Buyer"


def test_contact_delete_removes_it_and_records_it(rep, customer):
    contact = ContactFactory(customer=customer, name="Wang Fang")

    services.contact_delete(actor=rep, contact_id=contact.pk)

    assert not Contact.objects.exists()
    event = only_event("contact.deleted")
    assert event.actor == rep
    assert event.target_repr == "Wang Fang"
    assert event.changes["name"] == ["Wang Fang", None]


def test_rep_cannot_delete_a_contact_of_another_reps_customer(other_rep, customer):
    contact = ContactFactory(customer=customer)
    with pytest.raises(DomainError):
        services.contact_delete(actor=other_rep, contact_id=contact.pk)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_new_primary_contact_takes_over_from_the_old_one(rep, customer):
    first = services.contact_create(actor=rep, customer_id=customer.pk, name="First", is_primary=True)
    second = services.contact_create(actor=rep, customer_id=customer.pk, name="Second", is_primary=True)

    first.refresh_from_db()
    assert not first.is_primary
    assert second.is_primary
    demoted = only_event("contact.updated")
    assert demoted.target_id == str(first.pk)
    assert demoted.actor == rep
    assert demoted.changes == {"is_primary": [True, False]}

    services.contact_update(actor=rep, contact_id=first.pk, is_primary=True)

    assert list(customer.contacts.filter(is_primary=True)) == [first]


def test_primary_contacts_of_different_customers_do_not_interfere(rep, customer):
    other = CustomerFactory(owner=rep)
    mine = services.contact_create(actor=rep, customer_id=customer.pk, name="Mine", is_primary=True)
    services.contact_create(actor=rep, customer_id=other.pk, name="Theirs", is_primary=True)
    mine.refresh_from_db()
    assert mine.is_primary


def test_database_refuses_a_second_primary_contact(customer):
    ContactFactory(customer=customer, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(customer=customer, name="Second", is_primary=True)


# --- interactions ------------------------------------------------------------------------------------


def test_interaction_create_adds_to_the_timeline_and_records_it(rep, customer):
    contact = ContactFactory(customer=customer)
    when = timezone.now() - datetime.timedelta(hours=2)

    interaction = services.interaction_create(
        actor=rep,
        customer_id=customer.pk,
        kind="meeting",
        subject="Kick-off",
        occurred_at=when,
        contact=contact,
    )

    assert list(customer.interactions.all()) == [interaction]
    assert interaction.author == rep
    event = only_event("interaction.created")
    assert event.actor == rep
    assert event.parent_id == str(customer.pk)
    assert event.changes["subject"] == [None, "Kick-off"]
    assert event.changes["kind"] == [None, "meeting"]
    assert event.changes["contact"] == [None, contact.name]


def test_service_agent_can_add_to_the_timeline_of_any_customer(agent, customer):
    interaction = services.interaction_create(actor=agent, customer_id=customer.pk, kind="call", subject="Complaint")
    assert interaction.author == agent
    assert only_event("interaction.created").actor == agent


def test_roles_without_add_permission_cannot_add_to_the_timeline(finance, customer):
    with pytest.raises(DomainError):
        services.interaction_create(actor=finance, customer_id=customer.pk, kind="call", subject="Hi")
    assert not Interaction.objects.exists()


def test_rep_cannot_add_to_the_timeline_of_another_reps_customer(other_rep, customer):
    with pytest.raises(DomainError):
        services.interaction_create(actor=other_rep, customer_id=customer.pk, kind="call", subject="Hi")
    assert not Interaction.objects.exists()


def test_interaction_contact_must_belong_to_the_customer(rep, customer):
    stranger = ContactFactory(customer=CustomerFactory(owner=rep))
    with pytest.raises(DomainError) as refusal:
        services.interaction_create(actor=rep, customer_id=customer.pk, kind="call", subject="Hi", contact=stranger)
    assert refusal.value.field == "contact"
    assert not Interaction.objects.exists()


def test_interaction_delete_removes_it_and_records_it(rep, customer):
    interaction = InteractionFactory(customer=customer, subject="Wrong entry")

    services.interaction_delete(actor=rep, interaction_id=interaction.pk)

    assert not Interaction.objects.exists()
    event = only_event("interaction.deleted")
    assert event.actor == rep
    assert event.parent_id == str(customer.pk)
    assert event.changes["subject"] == ["Wrong entry", None]


def test_rep_cannot_delete_an_interaction_of_another_reps_customer(other_rep, customer):
    interaction = InteractionFactory(customer=customer)
    with pytest.raises(DomainError):
        services.interaction_delete(actor=other_rep, interaction_id=interaction.pk)
    assert Interaction.objects.filter(pk=interaction.pk).exists()


def test_service_agent_cannot_delete_from_the_timeline(agent, customer):
    interaction = InteractionFactory(customer=customer)
    with pytest.raises(DomainError):
        services.interaction_delete(actor=agent, interaction_id=interaction.pk)
    assert Interaction.objects.filter(pk=interaction.pk).exists()
