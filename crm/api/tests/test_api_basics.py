"""The API's ground rules over customers: visibility, masking, problems, ETag, idempotency."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from crm.core.models import AuditEvent
from customers.models import Customer
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def url(path):
    return f"/api/v1/{path}"


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def test_anonymous_gets_a_401_problem():
    response = APIClient().get(url("customers/"))
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["instance"] == "/api/v1/customers/"


def test_an_unknown_address_under_the_api_is_a_404_problem(api_for, rep):
    assert_problem(api_for(rep).get("/api/v1/no-such-thing/"), 404)


def test_a_rep_lists_and_reads_only_their_own_customers(api_for, rep, other_rep, customer):
    theirs = CustomerFactory(owner=other_rep, name="Somebody Else Ltd")
    api = api_for(rep)

    listed = api.get(url("customers/")).json()["results"]
    assert [row["id"] for row in listed] == [customer.pk]
    assert api.get(url(f"customers/{customer.pk}/")).status_code == 200
    body = assert_problem(api.get(url(f"customers/{theirs.pk}/")), 404)
    assert "Somebody Else" not in str(body)


def test_contact_details_are_masked_as_on_the_pages(api_for, agent, manager, customer):
    customer.notes = "Call Mr Li on 13812345678 or li@tea.example.com"
    customer.save()

    masked = api_for(agent).get(url(f"customers/{customer.pk}/")).json()
    assert masked["phone"] == "138****" + customer.phone[-4:]
    assert masked["email"].startswith(customer.email[0] + "***@")
    assert "13812345678" not in masked["notes"] and "li@tea.example.com" not in masked["notes"]
    assert "138****5678" in masked["notes"]

    revealed = api_for(manager).get(url(f"customers/{customer.pk}/")).json()
    assert revealed["phone"] == customer.phone and revealed["email"] == customer.email
    assert "13812345678" in revealed["notes"]


def test_contacts_are_masked_in_lists_too(api_for, agent, customer):
    contact = ContactFactory(customer=customer, phone="13900001111")
    rows = api_for(agent).get(url("contacts/")).json()["results"]
    assert {row["id"]: row["phone"] for row in rows}[contact.pk] == "139****1111"


def test_create_goes_through_the_service_and_is_audited_as_api_with_the_token_name(token_for, rep):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(rep, name='ERP sync')}")

    response = api.post(
        url("customers/"), {"name": "Ningbo Ports Ltd", "email": "ops@ningbo.example.com"}, format="json"
    )

    assert response.status_code == 201, response.content
    created = Customer.objects.get(pk=response.json()["id"])
    assert created.owner == rep
    event = AuditEvent.objects.get(action="customer.created", target_id=str(created.pk))
    assert (event.source, event.token_name, event.actor) == ("api", "ERP sync", rep)
    assert event.payload_hash == event.compute_payload_hash()


def test_validation_errors_are_a_problem_by_field(api_for, rep):
    body = assert_problem(api_for(rep).post(url("customers/"), {"email": "not-an-address"}, format="json"), 400)
    assert set(body["errors"]) >= {"name", "email"}


def test_a_duplicate_is_refused_by_the_service_with_its_message(api_for, rep, customer):
    response = api_for(rep).post(url("customers/"), {"name": customer.name}, format="json")
    body = assert_problem(response, 422)
    assert body["errors"]


def test_patch_needs_if_match_and_refuses_a_stale_one(api_for, rep, customer):
    api = api_for(rep)
    read = api.get(url(f"customers/{customer.pk}/"))
    etag = read["ETag"]

    assert_problem(api.patch(url(f"customers/{customer.pk}/"), {"tier": "key"}, format="json"), 428)
    changed = api.patch(url(f"customers/{customer.pk}/"), {"tier": "key"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    assert changed.json()["tier"] == "key" and changed["ETag"] != etag

    stale = api.patch(url(f"customers/{customer.pk}/"), {"tier": "standard"}, format="json", HTTP_IF_MATCH=etag)
    assert_problem(stale, 412)
    customer.refresh_from_db()
    assert customer.tier == "key"


def test_another_reps_customer_cannot_be_changed_it_is_not_found(api_for, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep)
    assert_problem(
        api_for(rep).patch(url(f"customers/{theirs.pk}/"), {"tier": "key"}, format="json", HTTP_IF_MATCH="*"), 404
    )


def test_the_same_idempotency_key_creates_once(api_for, rep):
    api = api_for(rep)
    payload = {"name": "Suzhou Silk Ltd"}

    first = api.post(url("customers/"), payload, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = api.post(url("customers/"), payload, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    other = api.post(url("customers/"), {"name": "Other Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Customer.objects.filter(name="Suzhou Silk Ltd").count() == 1
    assert_problem(other, 422)
    assert not Customer.objects.filter(name="Other Ltd").exists()


def test_idempotency_keys_are_per_user(api_for, rep, other_rep):
    api_for(rep).post(url("customers/"), {"name": "Mine Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = api_for(other_rep).post(
        url("customers/"), {"name": "Yours Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201


def test_a_read_token_cannot_write(api_for, rep):
    body = assert_problem(api_for(rep, scopes=("read",)).post(url("customers/"), {"name": "X Ltd"}, format="json"), 403)
    assert "read" in body["detail"]
    assert not Customer.objects.filter(name="X Ltd").exists()


def test_an_expired_or_revoked_token_is_refused(rep, token_for):
    import datetime

    from django.utils import timezone

    from crm.api import services
    from crm.api.models import ApiToken

    secret = token_for(rep, name="old")
    token = ApiToken.objects.get(name="old")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert "expired" in assert_problem(api.get(url("customers/")), 401)["detail"]

    live = token_for(rep, name="live")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {live}")
    assert api.get(url("customers/")).status_code == 200
    services.token_revoke(actor=rep, token_id=ApiToken.objects.get(name="live").pk)
    assert "revoked" in assert_problem(api.get(url("customers/")), 401)["detail"]

    api.credentials(HTTP_AUTHORIZATION="Bearer crm_not-a-token")
    assert_problem(api.get(url("customers/")), 401)


def test_a_token_records_when_it_was_last_used(api_for, rep):
    from crm.api.models import ApiToken

    api_for(rep).get(url("customers/"))
    assert ApiToken.objects.get(user=rep).last_used_at is not None


@override_settings(API_THROTTLE_RATES={"token": "3/m", "user": "100/m"})
def test_a_token_is_throttled_with_a_429_problem(api_for, rep):
    api = api_for(rep)
    for _ in range(3):
        assert api.get(url("customers/")).status_code == 200
    response = api.get(url("customers/"))
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0


@override_settings(API_THROTTLE_RATES={"token": "100/m", "user": "2/m"})
def test_a_user_is_throttled_across_tokens(api_for, rep):
    assert api_for(rep).get(url("customers/")).status_code == 200
    assert api_for(rep).get(url("customers/")).status_code == 200
    assert_problem(api_for(rep).get(url("customers/")), 429)


def test_the_session_works_and_writes_need_the_csrf_token(client, rep):
    client.force_login(rep)
    assert client.get(url("customers/")).status_code == 200

    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rep)
    response = strict.post(url("customers/"), {"name": "No Csrf Ltd"}, content_type="application/json")
    assert_problem(response, 403)
    assert not Customer.objects.filter(name="No Csrf Ltd").exists()


def test_lists_page_by_cursor_in_a_stable_order(api_for, rep):
    for number in range(5):
        CustomerFactory(owner=rep, name=f"Paging {number} Ltd")
    api = api_for(rep)

    seen, address = [], url("customers/?sort=name&limit=2")
    while address:
        page = api.get(address).json()
        seen += [row["name"] for row in page["results"]]
        address = page["next"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 5


def test_list_filters_are_the_pages_filters(api_for, manager, rep):
    CustomerFactory(owner=rep, name="Filter Gold Ltd", tier="key")
    CustomerFactory(owner=rep, name="Filter Plain Ltd", tier="standard")
    api = api_for(manager)
    names = [row["name"] for row in api.get(url("customers/?tier=key")).json()["results"]]
    assert names == ["Filter Gold Ltd"]
    names = [row["name"] for row in api.get(url("customers/?q=Plain")).json()["results"]]
    assert names == ["Filter Plain Ltd"]
    assert "tier" in assert_problem(api.get(url("customers/?tier=diamond")), 400)["errors"]


@pytest.mark.parametrize("query", ["after=abc", "after=999999999", "limit=0", "limit=x", "after=" + "9" * 30])
def test_bad_paging_is_never_a_500(api_for, rep, query):
    response = api_for(rep).get(url(f"customers/?{query}"))
    assert response.status_code in (200, 400)
