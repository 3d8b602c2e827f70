"""The customer pages, driven through the test client as a user would."""

import csv
import datetime
import io

import pytest
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from crm.core.models import AuditEvent
from customers.models import Contact, Customer, Interaction
from customers.tests.factories import ContactFactory, CustomerFactory

LIST_URL = reverse_lazy("customers:customer_list")
CREATE_URL = reverse_lazy("customers:customer_create")
EXPORT_URL = reverse_lazy("customers:customer_export")


def customer_form(**overrides):
    data = {
        "kind": "company",
        "name": "Lotus Imports",
        "industry": "retail",
        "tier": "standard",
        "status": "lead",
        "email": "hello@lotus.example.com",
        "phone": "+86 21 6000 1234",
        "address": "88 Nanjing Road",
        "notes": "",
    }
    data.update(overrides)
    return data


def names_in(response):
    return [customer.name for customer in response.context["object_list"]]


def csv_rows(response):
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    return [line.split(",")[0] for line in lines[1:]]


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep, name="Acme Trading", email="buyer@acme.example.com", phone="13800135678")


# --- create -------------------------------------------------------------------------------------


def test_rep_creates_a_customer_through_the_form(client_for, rep):
    client = client_for(rep)
    assert client.get(CREATE_URL).status_code == 200

    response = client.post(CREATE_URL, customer_form())

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert customer.owner == rep
    assert customer.phone == "+86 21 6000 1234"
    detail = client.get(response["Location"]).content.decode()
    assert "Created customer Lotus Imports." in detail
    assert "Lotus Imports" in names_in(client.get(LIST_URL))


def test_form_shows_errors_next_to_fields_and_keeps_the_input(client_for, rep):
    response = client_for(rep).post(CREATE_URL, customer_form(name="", email="not-an-email"))

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"name", "email"}
    page = response.content.decode()
    assert 'id="error_1_id_name"' in page
    assert 'id="error_1_id_email"' in page
    assert 'value="+86 21 6000 1234"' in page
    assert "88 Nanjing Road" in page
    assert not Customer.objects.exists()


def test_duplicate_shows_an_error_with_a_link_to_the_existing_customer(client_for, rep, customer):
    response = client_for(rep).post(CREATE_URL, customer_form(name="  ACME   trading "))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="error_1_id_name"' in page
    assert f'<a href="{customer.get_absolute_url()}">Open it</a>' in page
    assert Customer.objects.count() == 1


def test_duplicate_of_another_reps_customer_has_no_link(client_for, other_rep, customer):
    response = client_for(other_rep).post(CREATE_URL, customer_form(name="Lotus", email="BUYER@acme.example.com"))

    page = response.content.decode()
    assert 'id="error_1_id_email"' in page
    assert customer.get_absolute_url() not in page
    assert "Acme Trading" not in page
    assert "belongs to another owner" in page


def test_rep_form_has_no_owner_field_but_manager_form_does(client_for, rep, manager):
    assert "owner" not in client_for(rep).get(CREATE_URL).context["form"].fields
    assert "owner" in client_for(manager).get(CREATE_URL).context["form"].fields


def test_manager_creates_a_customer_for_a_rep(client_for, manager, rep):
    response = client_for(manager).post(CREATE_URL, customer_form(owner=rep.pk))
    assert response.status_code == 302
    assert Customer.objects.get().owner == rep


# --- edit, delete, reassign -------------------------------------------------------------------------


def test_rep_edits_own_customer(client_for, rep, customer):
    url = reverse("customers:customer_update", args=[customer.pk])
    client = client_for(rep)
    assert client.get(url).context["form"].initial["name"] == "Acme Trading"

    response = client.post(url, customer_form(name="Acme Trading Group", status="active", email="", phone=""))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Acme Trading Group"
    assert customer.status == "active"
    assert customer.email == ""
    detail = client.get(customer.get_absolute_url()).content.decode()
    assert "customer.updated" in detail


def test_edit_with_bad_input_changes_nothing(client_for, rep, customer):
    url = reverse("customers:customer_update", args=[customer.pk])
    response = client_for(rep).post(url, customer_form(name="", email="broken"))
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "Acme Trading"
    assert not AuditEvent.objects.exists()


def test_rep_deletes_own_customer_after_confirming(client_for, rep, customer):
    url = reverse("customers:customer_delete", args=[customer.pk])
    client = client_for(rep)
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Acme Trading" in confirm.content.decode()
    assert Customer.objects.exists()

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not Customer.objects.exists()
    assert AuditEvent.objects.filter(action="customer.deleted").count() == 1


def test_manager_reassigns_a_customer_from_its_page(client_for, manager, other_rep, customer):
    client = client_for(manager)
    detail = client.get(customer.get_absolute_url()).content.decode()
    reassign_url = f"{reverse('customers:customer_reassign')}?customer={customer.pk}"
    assert reassign_url in detail

    page = client.get(reassign_url)
    assert page.status_code == 200
    assert "Acme Trading" in page.content.decode()

    response = client.post(reverse("customers:customer_reassign"), {"customer": customer.pk, "owner": other_rep.pk})

    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    customer.refresh_from_db()
    assert customer.owner == other_rep


def test_manager_reassigns_several_customers_at_once(client_for, manager, rep, other_rep, customer):
    second = CustomerFactory(owner=rep)
    response = client_for(manager).post(
        reverse("customers:customer_reassign"), {"customer": [customer.pk, second.pk], "owner": other_rep.pk}
    )
    assert response["Location"] == LIST_URL
    assert set(Customer.objects.values_list("owner", flat=True)) == {other_rep.pk}


def test_reassign_without_a_customer_shows_an_error(client_for, manager, other_rep):
    response = client_for(manager).post(reverse("customers:customer_reassign"), {"owner": other_rep.pk})
    assert response.status_code == 200
    assert "Choose at least one customer." in response.content.decode()


def test_rep_detail_page_offers_no_reassign(client_for, rep, customer):
    page = client_for(rep).get(customer.get_absolute_url()).content.decode()
    assert reverse("customers:customer_reassign") not in page


# --- contacts and timeline from the customer's page -----------------------------------------------------


def test_rep_adds_a_contact_from_the_customer_page(client_for, rep, customer):
    client = client_for(rep)
    add_url = reverse("customers:contact_create", args=[customer.pk])
    assert add_url in client.get(customer.get_absolute_url()).content.decode()

    response = client.post(
        add_url, {"name": "Wang Fang", "title": "Buyer", "email": "wang@acme.example.com", "is_primary": "on"}
    )

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == contact.get_absolute_url()
    assert contact.customer == customer
    assert contact.is_primary
    detail = client.get(customer.get_absolute_url()).content.decode()
    assert "Wang Fang" in detail
    assert "contact.created" in detail


def test_contact_form_shows_field_errors(client_for, rep, customer):
    response = client_for(rep).post(
        reverse("customers:contact_create", args=[customer.pk]), {"name": "", "email": "nope"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "email"}
    assert not Contact.objects.exists()


def test_rep_edits_and_deletes_a_contact(client_for, rep, customer):
    contact = ContactFactory(customer=customer, name="Wang Fang", title="Buyer")
    client = client_for(rep)

    response = client.post(
        reverse("customers:contact_update", args=[contact.pk]), {"name": "Wang Fang", "title": "Director"}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "Director"

    response = client.post(reverse("customers:contact_delete", args=[contact.pk]))
    assert response["Location"] == customer.get_absolute_url()
    assert not Contact.objects.exists()


def test_rep_adds_an_interaction_to_the_timeline(client_for, rep, customer):
    contact = ContactFactory(customer=customer, name="Wang Fang")
    client = client_for(rep)
    detail = client.get(customer.get_absolute_url())
    assert detail.context["interaction_form"] is not None
    when = timezone.localtime() - datetime.timedelta(days=1)

    response = client.post(
        reverse("customers:interaction_create", args=[customer.pk]),
        {
            "kind": "meeting",
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "contact": contact.pk,
            "subject": "Quarterly review",
            "body": "Discussed volumes.",
        },
    )

    interaction = Interaction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == interaction.get_absolute_url()
    assert interaction.author == rep
    assert interaction.contact == contact
    assert interaction.occurred_at.replace(second=0, microsecond=0) == when.replace(second=0, microsecond=0)
    timeline = client.get(customer.get_absolute_url()).content.decode()
    assert "Quarterly review" in timeline
    assert "Discussed volumes." in timeline


def test_interaction_without_a_subject_is_refused(client_for, rep, customer):
    response = client_for(rep).post(
        reverse("customers:interaction_create", args=[customer.pk]),
        {"kind": "call", "occurred_at": "2026-01-05T10:00", "subject": ""},
    )
    assert response.status_code == 200
    assert "subject" in response.context["form"].errors
    assert not Interaction.objects.exists()


def test_interaction_form_offers_only_this_customers_contacts(client_for, rep, customer):
    mine = ContactFactory(customer=customer)
    ContactFactory(customer=CustomerFactory(owner=rep))
    form = client_for(rep).get(customer.get_absolute_url()).context["interaction_form"]
    assert list(form.fields["contact"].queryset) == [mine]


def test_rep_deletes_an_interaction(client_for, rep, customer):
    interaction = Interaction.objects.create(customer=customer, author=rep, kind="call", subject="Oops")
    response = client_for(rep).post(reverse("customers:interaction_delete", args=[interaction.pk]))
    assert response["Location"] == customer.get_absolute_url()
    assert not Interaction.objects.exists()


# --- filters, sorting, pagination, export ------------------------------------------------------------


@pytest.fixture
def assorted(rep, other_rep):
    return [
        CustomerFactory(owner=rep, name="Cedar Bank", status="active", industry="finance", tier="key"),
        CustomerFactory(owner=rep, name="Alder Mills", status="lead", industry="manufacturing", tier="small"),
        CustomerFactory(owner=other_rep, name="Birch Retail", status="active", industry="retail", tier="key"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "active"}, ["Birch Retail", "Cedar Bank"]),
        ({"industry": "manufacturing"}, ["Alder Mills"]),
        ({"tier": "key"}, ["Birch Retail", "Cedar Bank"]),
        ({"tier": "key", "status": "active", "industry": "retail"}, ["Birch Retail"]),
        ({"q": "bank"}, ["Cedar Bank"]),
    ],
)
def test_customer_list_filters(client_for, manager, assorted, params, expected):
    assert names_in(client_for(manager).get(LIST_URL, params)) == expected


def test_customer_list_filters_by_owner(client_for, manager, other_rep, assorted):
    assert names_in(client_for(manager).get(LIST_URL, {"owner": other_rep.pk})) == ["Birch Retail"]


def test_invalid_filter_value_does_not_break_the_list(client_for, manager, assorted):
    response = client_for(manager).get(LIST_URL, {"status": "nonsense"})
    assert response.status_code == 200


def test_customer_list_sorted_by_status_is_by_name_within_each_status(client_for, manager, assorted):
    CustomerFactory(owner=manager, name="Aspen Hotels", status="active")
    client = client_for(manager)

    assert names_in(client.get(LIST_URL, {"sort": "status"})) == [
        "Aspen Hotels",
        "Birch Retail",
        "Cedar Bank",
        "Alder Mills",
    ]
    assert names_in(client.get(LIST_URL, {"sort": "-status"})) == [
        "Alder Mills",
        "Cedar Bank",
        "Birch Retail",
        "Aspen Hotels",
    ]


def test_customer_list_sorts_by_name_and_by_last_update(client_for, manager, assorted):
    cedar, alder, birch = assorted
    Customer.objects.filter(pk=alder.pk).update(updated_at=timezone.now() - datetime.timedelta(days=3))
    Customer.objects.filter(pk=cedar.pk).update(updated_at=timezone.now() - datetime.timedelta(days=1))
    Customer.objects.filter(pk=birch.pk).update(updated_at=timezone.now() - datetime.timedelta(days=2))
    client = client_for(manager)

    assert names_in(client.get(LIST_URL, {"sort": "name"})) == ["Alder Mills", "Birch Retail", "Cedar Bank"]
    assert names_in(client.get(LIST_URL, {"sort": "-name"})) == ["Cedar Bank", "Birch Retail", "Alder Mills"]
    assert names_in(client.get(LIST_URL, {"sort": "-updated"})) == [
        "Cedar Bank",
        "Birch Retail",
        "Alder Mills",
    ]
    assert names_in(client.get(LIST_URL, {"sort": "updated"})) == [
        "Alder Mills",
        "Birch Retail",
        "Cedar Bank",
    ]


def test_customer_list_pages_through_results_without_overlap(client_for, rep):
    for number in range(30):
        CustomerFactory(owner=rep, name=f"Customer {number:02d}")
    client = client_for(rep)

    first = client.get(LIST_URL, {"sort": "name"})
    second = client.get(LIST_URL, {"sort": "name", "page": 2})

    assert len(names_in(first)) == 25
    assert len(names_in(second)) == 5
    assert set(names_in(first)).isdisjoint(names_in(second))
    assert "1–25 of 30" in first.content.decode()
    assert "?page=2&amp;sort=name" in first.content.decode()
    past_the_end = client.get(LIST_URL, {"page": 9})
    assert past_the_end.status_code == 200 and 'data-testid="page-not-found"' in past_the_end.content.decode()


def test_contact_list_filters_primary_and_searches_by_customer(client_for, rep, customer):
    ContactFactory(customer=customer, name="Primary Person", is_primary=True)
    ContactFactory(customer=customer, name="Other Person")
    ContactFactory(customer=CustomerFactory(owner=rep, name="Zeta Co"), name="Zeta Person")
    client = client_for(rep)
    contacts_url = reverse("customers:contact_list")

    def contact_names(params):
        return [contact.name for contact in client.get(contacts_url, params).context["object_list"]]

    assert contact_names({"primary": "true"}) == ["Primary Person"]
    assert contact_names({"q": "zeta"}) == ["Zeta Person"]
    assert contact_names({"sort": "-name"}) == ["Zeta Person", "Primary Person", "Other Person"]


def test_export_link_carries_the_current_filters(client_for, manager, assorted):
    page = client_for(manager).get(LIST_URL, {"status": "active", "page": "1"}).content.decode()
    assert f'href="{EXPORT_URL}?status=active"' in page


def test_export_honours_the_current_filters_and_sorting(client_for, manager, assorted):
    client = client_for(manager)
    response = client.get(EXPORT_URL, {"status": "active", "sort": "-name"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert csv_rows(response) == ["Cedar Bank", "Birch Retail"]
    assert csv_rows(client.get(EXPORT_URL, {"industry": "manufacturing"})) == ["Alder Mills"]
    assert csv_rows(client.get(EXPORT_URL)) == ["Alder Mills", "Birch Retail", "Cedar Bank"]


def test_export_is_not_paginated(client_for, rep):
    for number in range(30):
        CustomerFactory(owner=rep, name=f"Customer {number:02d}")
    assert len(csv_rows(client_for(rep).get(EXPORT_URL, {"page": 2}))) == 30


# --- the admin goes through the services too -----------------------------------------------------------


def test_admin_adds_a_contact_inline_through_the_contact_service(client_for, admin_user, rep, customer):
    ContactFactory(customer=customer, name="Old Primary", is_primary=True)
    old = customer.contacts.get()
    response = client_for(admin_user).post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        {
            **customer_form(name=customer.name, email=customer.email, phone=customer.phone),
            "owner": rep.pk,
            "contacts-TOTAL_FORMS": "2",
            "contacts-INITIAL_FORMS": "1",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
            "contacts-0-id": old.pk,
            "contacts-0-customer": customer.pk,
            "contacts-0-name": "Old Primary",
            "contacts-0-title": old.title,
            "contacts-0-email": old.email,
            "contacts-0-phone": old.phone,
            "contacts-0-is_primary": "on",
            "contacts-0-language": old.language,
            "contacts-1-customer": customer.pk,
            "contacts-1-name": "Admin Added",
            "contacts-1-title": "",
            "contacts-1-email": "added@acme.example.com",
            "contacts-1-phone": "",
            "contacts-1-language": "zh-hans",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    added = Contact.objects.get(name="Admin Added")
    event = AuditEvent.objects.get(action="contact.created")
    assert event.target_id == str(added.pk)
    assert event.source == "admin"
    assert AuditEvent.objects.get(action="customer.updated").changes["status"] == ["active", "lead"]


def test_export_cannot_smuggle_a_spreadsheet_formula(client_for, rep):
    CustomerFactory(owner=rep, name='=HYPERLINK("http://evil.example.com","Click")', phone="+86 138 0013 5678")
    export = b"".join(client_for(rep).get(EXPORT_URL).streaming_content).decode("utf-8-sig")
    row = next(csv.reader(io.StringIO(export.splitlines()[1])))
    assert row[0] == '\'=HYPERLINK("http://evil.example.com","Click")'
    assert row[6] == "'+86 138 0013 5678"


def test_only_roles_that_see_every_customer_get_the_owner_filter(client_for, rep, manager):
    assert 'name="owner"' not in client_for(rep).get("/customers/").content.decode()
    assert 'name="owner"' in client_for(manager).get("/customers/").content.decode()
