"""Row-level visibility and masking, as each role sees them on every page."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from customers import services
from customers.tests.factories import ContactFactory, CustomerFactory, InteractionFactory

MINE_EMAIL = "buyer@mine.example.com"
MINE_PHONE = "13800135678"
CONTACT_EMAIL = "wang.fang@mine.example.com"
CONTACT_PHONE = "13912345678"


@pytest.fixture
def mine(rep):
    customer = CustomerFactory(owner=rep, name="Mine Trading", email=MINE_EMAIL, phone=MINE_PHONE, status="active")
    ContactFactory(customer=customer, name="Wang Fang", email=CONTACT_EMAIL, phone=CONTACT_PHONE)
    InteractionFactory(customer=customer, subject="Intro call")
    return customer


@pytest.fixture
def theirs(other_rep):
    customer = CustomerFactory(
        owner=other_rep,
        name="Theirs Holdings",
        email="ceo@theirs.example.com",
        phone="13700001111",
        status="lead",
    )
    ContactFactory(customer=customer, name="Zhao Lei", email="zhao@theirs.example.com")
    return customer


def text_of(response):
    return response.content.decode()


def csv_of(response):
    return b"".join(response.streaming_content).decode("utf-8-sig")


# --- A rep sees only their own customers ------------------------------------------------------------


def test_rep_lists_only_own_customers(client_for, rep, mine, theirs):
    page = text_of(client_for(rep).get(reverse("customers:customer_list")))
    assert "Mine Trading" in page
    assert "Theirs Holdings" not in page


def test_rep_search_does_not_find_another_reps_customer(client_for, rep, mine, theirs):
    client = client_for(rep)
    assert "Theirs Holdings" not in text_of(client.get(reverse("customers:customer_list"), {"q": "Theirs"}))
    assert "Theirs Holdings" not in text_of(client.get(reverse("customers:customer_list"), {"q": "13700001111"}))
    assert "Mine Trading" in text_of(client.get(reverse("customers:customer_list"), {"q": "mine"}))


def test_rep_export_contains_only_own_customers(client_for, rep, mine, theirs):
    export = csv_of(client_for(rep).get(reverse("customers:customer_export")))
    assert "Mine Trading" in export
    assert "Theirs Holdings" not in export
    assert MINE_EMAIL in export


def test_rep_contact_list_shows_only_contacts_of_own_customers(client_for, rep, mine, theirs):
    page = text_of(client_for(rep).get(reverse("customers:contact_list")))
    assert "Wang Fang" in page
    assert "Zhao Lei" not in page


def test_rep_dashboard_counts_only_own_customers(client_for, rep, mine, theirs):
    CustomerFactory(owner=rep, status="lead")
    call_command("refresh_dashboard", stdout=io.StringIO())  # the counts are the dashboard's summary figures
    response = client_for(rep).get(reverse("dashboard:home"))
    assert response.context["customer_total"] == 2
    counts = {value: count for _label, count, value in response.context["status_counts"]}
    assert counts["lead"] == 1
    assert counts["active"] == 1
    assert 'data-testid="customer-total">2<' in text_of(response)
    assert "Theirs Holdings" not in text_of(response)


@pytest.mark.parametrize(
    "url_name",
    ["customer_detail", "customer_update", "customer_delete", "contact_create", "interaction_create"],
)
def test_another_reps_customer_pages_answer_404(client_for, rep, theirs, url_name):
    response = client_for(rep).get(reverse(f"customers:{url_name}", args=[theirs.pk]))
    assert response.status_code == 404
    assert "Theirs Holdings" not in text_of(response)


@pytest.mark.parametrize("url_name", ["contact_update", "contact_delete"])
def test_another_reps_contact_pages_answer_404(client_for, rep, theirs, url_name):
    contact = theirs.contacts.get()
    assert client_for(rep).get(reverse(f"customers:{url_name}", args=[contact.pk])).status_code == 404


def test_another_reps_interaction_delete_page_answers_404(client_for, rep, theirs):
    interaction = InteractionFactory(customer=theirs)
    url = reverse("customers:interaction_delete", args=[interaction.pk])
    assert client_for(rep).get(url).status_code == 404


def test_rep_cannot_post_changes_to_another_reps_customer(client_for, rep, theirs):
    client = client_for(rep)
    assert client.post(reverse("customers:customer_update", args=[theirs.pk]), {"name": "Mine now"}).status_code == 404
    assert client.post(reverse("customers:customer_delete", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs Holdings"


# --- A manager sees everything ------------------------------------------------------------------------


def test_manager_sees_every_customer_and_contact(client_for, manager, mine, theirs):
    client = client_for(manager)
    customers = text_of(client.get(reverse("customers:customer_list")))
    assert "Mine Trading" in customers and "Theirs Holdings" in customers
    contacts = text_of(client.get(reverse("customers:contact_list")))
    assert "Wang Fang" in contacts and "Zhao Lei" in contacts
    export = csv_of(client.get(reverse("customers:customer_export")))
    assert "Mine Trading" in export and "Theirs Holdings" in export
    assert client.get(reverse("customers:customer_update", args=[theirs.pk])).status_code == 200
    call_command("refresh_dashboard", stdout=io.StringIO())
    assert client.get(reverse("dashboard:home")).context["customer_total"] == 2


# --- A service agent sees everything read-only and masked -----------------------------------------


def test_service_agent_sees_every_customer_but_cannot_edit_or_create(client_for, agent, mine, theirs):
    client = client_for(agent)
    page = text_of(client.get(reverse("customers:customer_list")))
    assert "Mine Trading" in page and "Theirs Holdings" in page
    assert client.get(reverse("customers:customer_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("customers:customer_update", args=[mine.pk])).status_code == 404
    assert client.get(reverse("customers:customer_create")).status_code == 403
    assert client.get(reverse("customers:contact_create", args=[mine.pk])).status_code == 404


def test_service_agent_detail_page_has_no_edit_buttons(client_for, agent, mine):
    page = text_of(client_for(agent).get(reverse("customers:customer_detail", args=[mine.pk])))
    assert reverse("customers:customer_update", args=[mine.pk]) not in page
    assert reverse("customers:customer_delete", args=[mine.pk]) not in page


def test_service_agent_sees_masked_phones_and_emails_in_the_customer_list(client_for, agent, mine):
    page = text_of(client_for(agent).get(reverse("customers:customer_list")))
    assert MINE_EMAIL not in page and MINE_PHONE not in page
    assert "b***@mine.example.com" in page
    assert "138****5678" in page


def test_service_agent_sees_masked_details_on_the_customer_page(client_for, agent, mine):
    page = text_of(client_for(agent).get(reverse("customers:customer_detail", args=[mine.pk])))
    for secret in (MINE_EMAIL, MINE_PHONE, CONTACT_EMAIL, CONTACT_PHONE):
        assert secret not in page
    assert "138****5678" in page
    assert "139****5678" in page
    assert "w***@mine.example.com" in page


def test_service_agent_sees_masked_contacts_in_the_contact_list(client_for, agent, mine):
    page = text_of(client_for(agent).get(reverse("customers:contact_list")))
    assert "Wang Fang" in page
    assert CONTACT_EMAIL not in page and CONTACT_PHONE not in page
    assert "139****5678" in page


def test_service_agent_export_is_masked(client_for, agent, mine):
    export = csv_of(client_for(agent).get(reverse("customers:customer_export")))
    assert "Mine Trading" in export
    assert MINE_EMAIL not in export and MINE_PHONE not in export
    assert "138****5678" in export
    assert "b***@mine.example.com" in export


def test_service_agent_sees_masked_values_in_the_history_panel(client_for, rep, agent):
    customer = services.customer_create(actor=rep, name="History Ltd", email="old@history.example.com")
    services.customer_update(actor=rep, customer_id=customer.pk, email="new@history.example.com", phone="13611112222")
    services.contact_create(actor=rep, customer_id=customer.pk, name="Li Na", email="li.na@history.example.com")

    page = text_of(client_for(agent).get(reverse("customers:customer_detail", args=[customer.pk])))

    assert page.count('data-testid="audit-event"') == 3
    for secret in ("old@history.example.com", "new@history.example.com", "13611112222", "li.na@history"):
        assert secret not in page
    assert "o***@history.example.com" in page
    assert "136****2222" in page


def test_rep_sees_unmasked_values_on_own_customer_page(client_for, rep, mine):
    page = text_of(client_for(rep).get(reverse("customers:customer_detail", args=[mine.pk])))
    assert MINE_EMAIL in page and MINE_PHONE in page and CONTACT_PHONE in page


@pytest.mark.parametrize("probe", [MINE_PHONE, "0013", "5678", MINE_EMAIL, "buyer@", "mine.example"])
def test_service_agent_cannot_find_customers_by_masked_fields(client_for, agent, mine, probe):
    response = client_for(agent).get(reverse("customers:customer_list"), {"q": probe})
    assert "Mine Trading" not in text_of(response)
    assert list(response.context["object_list"]) == []


@pytest.mark.parametrize("probe", [CONTACT_EMAIL, "wang.fang@"])
def test_service_agent_cannot_find_contacts_by_email(client_for, agent, mine, probe):
    response = client_for(agent).get(reverse("customers:contact_list"), {"q": probe})
    assert list(response.context["object_list"]) == []


def test_service_agent_export_search_cannot_probe_masked_fields(client_for, agent, mine):
    export = csv_of(client_for(agent).get(reverse("customers:customer_export"), {"q": MINE_PHONE}))
    assert "Mine Trading" not in export


def test_service_agent_finds_customers_by_name(client_for, agent, mine, theirs):
    response = client_for(agent).get(reverse("customers:customer_list"), {"q": "mine trad"})
    assert list(response.context["object_list"]) == [mine]


def test_rep_finds_own_customer_by_phone_digits_and_email(client_for, rep, mine):
    client = client_for(rep)
    assert list(client.get(reverse("customers:customer_list"), {"q": "138-0013"}).context["object_list"]) == [mine]
    assert list(client.get(reverse("customers:customer_list"), {"q": "BUYER@mine"}).context["object_list"]) == [mine]


# --- The admin uses the same visibility -------------------------------------------------------------


def test_admin_changelist_shows_a_staff_rep_only_own_customers(client_for, rep, mine, theirs):
    rep.is_staff = True
    rep.save()
    client = client_for(rep)

    page = text_of(client.get(reverse("admin:customers_customer_changelist")))
    assert "Mine Trading" in page
    assert "Theirs Holdings" not in page

    search = text_of(client.get(reverse("admin:customers_customer_changelist"), {"q": "Theirs"}))
    assert "Theirs Holdings" not in search

    change = client.get(reverse("admin:customers_customer_change", args=[theirs.pk]))
    assert "Theirs Holdings" not in text_of(change)


def test_admin_contact_changelist_shows_a_staff_rep_only_own_contacts(client_for, rep, mine, theirs):
    rep.is_staff = True
    rep.save()
    page = text_of(client_for(rep).get(reverse("admin:customers_contact_changelist")))
    assert "Wang Fang" in page
    assert "Zhao Lei" not in page
