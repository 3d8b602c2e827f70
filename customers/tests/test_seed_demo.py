import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q
from django.utils import timezone

from crm.core.audit import audit_chain_verify
from crm.core.demo import DEMO_PASSWORD, DEMO_USERS, demo_user, demo_users_ensure
from crm.core.models import AuditEvent
from crm.core.roles import Role
from customers.management.commands.seed_demo import DemoData
from customers.models import Contact, Customer, Interaction
from customers.querysets import phone_key_digits

pytestmark = pytest.mark.django_db


def seed_demo(**options) -> str:
    out = io.StringIO()
    options.setdefault("contracts", 0)  # the customer part alone; the lifecycle is tested below
    call_command("seed_demo", stdout=out, verbosity=0, **options)
    return out.getvalue()


def test_seeds_customers_contacts_and_timeline():
    output = seed_demo(customers=50)

    assert Customer.objects.count() == 50
    assert Contact.objects.count() == 100
    assert Interaction.objects.exists()
    assert re.search(r"Seeded 50 customers, 100 contacts and \d+ timeline entries \(seed 42\) in [\d.]+ s", output)


def test_contacts_per_customer_is_respected():
    seed_demo(customers=10, contacts_per_customer=3)

    assert Contact.objects.count() == 30


def test_names_emails_and_phones_are_unique():
    seed_demo(customers=3000)

    customers = Customer.objects.all()
    assert customers.values("name_key").distinct().count() == 3000
    emails = customers.exclude(email_key="")
    assert emails.values("email_key").distinct().count() == emails.count() > 2500
    phones = customers.exclude(phone_key="")
    assert phones.values("phone_key").distinct().count() == phones.count() > 2500


def test_names_stay_unique_past_the_end_of_the_word_lists():
    """A running index beyond a name list's combinations adds a branch number or middle
    initial instead of repeating a name (checked without the database)."""
    data = DemoData(seed=1, owner_ids=[1], contacts_per_customer=0, now=timezone.now(), base=70_000)
    rows = list(data.customers(5000))

    assert len({" ".join(row.name.lower().split()) for row in rows}) == 5000
    assert len({row.email for row in rows if row.email}) == sum(1 for row in rows if row.email)
    phones = [phone_key_digits(row.phone) for row in rows if row.phone]
    assert len(set(phones)) == len(phones)


def test_data_is_realistic():
    seed_demo(customers=300)

    names = list(Customer.objects.values_list("name", flat=True))
    assert any(re.search(r"[\u4e00-\u9fff]{2,}(有限公司|股份有限公司|集团有限公司)$", name) for name in names)
    assert any(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ (Ltd|PLC|Limited|Inc\.|LLC|Corp\.)", name) for name in names)
    for phone in Customer.objects.exclude(phone="").values_list("phone_key", flat=True):
        assert re.fullmatch(r"1[358]\d{9}|861[358]\d{9}|447\d{9}|1[2-9]\d{9}", phone), phone
    assert Customer.objects.filter(phone_key__regex=r"^(44|1[2-9])").exists()
    assert Customer.objects.values("industry").distinct().count() >= 8
    assert Customer.objects.values("status").distinct().count() == 4
    assert all("@" in email for email in Customer.objects.exclude(email="").values_list("email", flat=True))


def test_owners_are_the_demo_sales_reps():
    seed_demo(customers=100)

    reps = {spec.username for spec in DEMO_USERS if spec.role == Role.SALES_REP}
    owners = set(Customer.objects.values_list("owner__username", flat=True).distinct())
    assert owners == reps


def test_each_customer_has_exactly_one_primary_contact():
    seed_demo(customers=50)

    counts = Customer.objects.annotate(primaries=Count("contacts", filter=Q(contacts__is_primary=True)))
    assert set(counts.values_list("primaries", flat=True)) == {1}


def test_interactions_belong_to_their_customer():
    seed_demo(customers=200)

    interactions = Interaction.objects.exclude(contact=None)
    assert interactions.exists()
    assert not interactions.exclude(contact__customer=F("customer")).exists()
    assert not Interaction.objects.exclude(author=F("customer__owner")).exists()


def test_same_seed_gives_the_same_customers_in_the_same_order():
    seed_demo(customers=50, seed=7)
    first = list(Customer.objects.order_by("id").values_list("name", "email", "phone"))
    first_contacts = list(Contact.objects.order_by("id").values_list("name", "email"))
    Customer.objects.all().delete()

    seed_demo(customers=50, seed=7)
    second = list(Customer.objects.order_by("id").values_list("name", "email", "phone"))
    second_contacts = list(Contact.objects.order_by("id").values_list("name", "email"))

    assert second == first
    assert second_contacts == first_contacts


def test_another_seed_gives_other_customers():
    seed_demo(customers=50, seed=7)
    first = list(Customer.objects.order_by("id").values_list("name", flat=True))
    Customer.objects.all().delete()

    seed_demo(customers=50, seed=8)

    assert list(Customer.objects.order_by("id").values_list("name", flat=True)) != first


def test_if_empty_keeps_existing_data():
    seed_demo(customers=20, if_empty=True)
    names = set(Customer.objects.values_list("name", flat=True))

    output = seed_demo(customers=50, if_empty=True)

    assert set(Customer.objects.values_list("name", flat=True)) == names
    assert "already exist" in output
    assert AuditEvent.objects.filter(action="demo.seeded").count() == 1


def test_seeding_again_without_if_empty_adds_new_customers():
    seed_demo(customers=40)
    seed_demo(customers=40)

    assert Customer.objects.count() == 80
    assert Customer.objects.values("name_key").distinct().count() == 80


def test_demo_users_exist_with_their_roles_and_the_demo_password(client):
    seed_demo(customers=0)

    for spec in DEMO_USERS:
        user = get_user_model().objects.get(username=spec.username)
        assert list(user.groups.values_list("name", flat=True)) == [spec.role.value]
        assert user.get_full_name() == spec.full_name
        assert (user.is_staff, user.is_superuser) == (spec.is_staff, spec.is_superuser)
        assert authenticate(username=spec.username, password=DEMO_PASSWORD) == user
    assert client.login(username="manager", password=DEMO_PASSWORD)
    assert client.get("/customers/").status_code == 200


def test_every_role_has_a_demo_user():
    assert {spec.role for spec in DEMO_USERS} == set(Role)


def test_demo_users_ensure_restores_the_demo_setup():
    demo_users_ensure()
    rep = get_user_model().objects.get(username="rep1")
    rep.groups.clear()
    rep.is_active = False
    rep.save()

    users = demo_users_ensure()

    rep.refresh_from_db()
    assert rep.is_active
    assert list(rep.groups.values_list("name", flat=True)) == [Role.SALES_REP.value]
    assert len(users) == len(DEMO_USERS) == get_user_model().objects.count()


def test_the_load_is_recorded_in_the_audit_trail():
    seed_demo(customers=30, seed=5)

    event = AuditEvent.objects.get(action="demo.seeded")
    assert event.target_id == str(get_user_model().objects.get(username=demo_user(Role.ADMIN).username).pk)
    assert event.actor is None
    assert event.source == "command"
    assert event.extra == {
        "customers": 30,
        "contacts": 60,
        "interactions": Interaction.objects.count(),
        "seed": 5,
    }
    assert audit_chain_verify() is None


def test_zero_customers_only_ensures_the_users():
    output = seed_demo(customers=0)

    assert "Demo users ready" in output
    assert not Customer.objects.exists()
    assert not AuditEvent.objects.filter(action="demo.seeded").exists()
    assert get_user_model().objects.count() == len(DEMO_USERS)


@pytest.mark.parametrize("options", [{"customers": -1}, {"contacts_per_customer": -1}, {"contacts_per_customer": 51}])
def test_bad_arguments_are_refused(options):
    with pytest.raises(CommandError):
        seed_demo(**options)
    assert not Customer.objects.exists()
