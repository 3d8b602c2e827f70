"""Fragment search through the search grams: any fragment of one or more characters, two
Chinese characters too, found through the GIN index without pg_trgm; e-mail and phone only
for users who may see them."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.urls import reverse

from contracts.tests.factories import ContractFactory
from crm.core.gram_search import (
    SEARCH_PAGE_COST,
    SEARCH_PLANNER_SETTINGS,
    few_matches_sorted,
    many_matches_newest,
    planner_settings,
    search_match_counts,
)
from customers.models import Customer
from customers.selectors import customer_search
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def grams(sql_call: str, value: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql_call}(%s)", [value])
        return cursor.fetchone()[0]


def names_in(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_the_stored_grams_are_each_character_and_pair_of_every_word_normalised():
    assert grams("crm_search_grams", "ＡＢ 科技") == ["a", "ab", "b", "技", "科", "科技"]
    assert grams("crm_search_query_grams", "  科技  有限 ") == ["有限", "科技"]
    assert grams("crm_search_query_grams", "王") == ["王"]


def test_a_two_character_chinese_fragment_finds_the_customer(client_for, rep):
    CustomerFactory(owner=rep, name="杭州云栖科技有限公司")
    CustomerFactory(owner=rep, name="上海浦江贸易有限公司")
    text = names_in(client_for(rep).get(reverse("customers:customer_list"), {"q": "科技"}))
    assert "杭州云栖科技有限公司" in text
    assert "上海浦江贸易有限公司" not in text


def test_a_single_character_and_full_width_letters_find_their_customers(client_for, rep):
    CustomerFactory(owner=rep, name="王氏五金")
    CustomerFactory(owner=rep, name="Acme Pumps")
    client = client_for(rep)
    assert "王氏五金" in names_in(client.get(reverse("customers:customer_list"), {"q": "王"}))
    text = names_in(client.get(reverse("customers:customer_list"), {"q": "ＰＵＭＰ"}))
    assert "Acme Pumps" in text and "王氏五金" not in text


def test_pairs_that_only_occur_in_different_words_do_not_match(client_for, rep):
    CustomerFactory(owner=rep, name="Wa Ngo Trading")  # has the pairs of "wang", never the fragment
    CustomerFactory(owner=rep, name="Wang Brothers")
    text = names_in(client_for(rep).get(reverse("customers:customer_list"), {"q": "wang"}))
    assert "Wang Brothers" in text and "Wa Ngo Trading" not in text


def test_a_phone_fragment_with_separators_finds_the_customer_for_who_may_see_it(client_for, rep, agent):
    CustomerFactory(owner=rep, name="Phone Owner Ltd", phone="+86 138-0013-5678")
    url = reverse("customers:customer_list")
    assert "Phone Owner Ltd" in names_in(client_for(rep).get(url, {"q": "0013-56"}))
    assert "Phone Owner Ltd" in names_in(client_for(rep).get(url, {"q": "00135678"}))


def test_a_masked_user_cannot_confirm_an_email_or_phone_by_searching(client_for, rep, agent):
    CustomerFactory(owner=rep, name="Secret Mail Ltd", email="ceo.private@example.com", phone="13912345678")
    client = client_for(agent)
    url = reverse("customers:customer_list")
    assert "Secret Mail Ltd" in names_in(client.get(url, {"q": "Secret"}))
    assert "Secret Mail Ltd" not in names_in(client.get(url, {"q": "ceo.private"}))
    assert "Secret Mail Ltd" not in names_in(client.get(url, {"q": "12345678"}))


def test_a_contact_is_found_by_its_customers_name_and_follows_a_rename(client_for, rep):
    customer = CustomerFactory(owner=rep, name="深圳华强电子有限公司")
    ContactFactory(customer=customer, name="Li Na")
    ContactFactory(customer=CustomerFactory(owner=rep, name="Other Co"), name="Zhang Wei")
    client = client_for(rep)
    url = reverse("customers:contact_list")
    text = names_in(client.get(url, {"q": "华强"}))
    assert "Li Na" in text and "Zhang Wei" not in text

    from customers.services import customer_update

    customer_update(actor=rep, customer_id=customer.pk, name="深圳赛格电子有限公司")
    assert "Li Na" not in names_in(client.get(url, {"q": "华强"}))
    assert "Li Na" in names_in(client.get(url, {"q": "赛格"}))


def test_contracts_are_found_by_title_number_and_customer_name(client_for, rep):
    customer = CustomerFactory(owner=rep, name="苏州精工机械有限公司")
    contract = ContractFactory(owner=rep, customer=customer, title="年度液压泵供货合同")
    ContractFactory(owner=rep, title="Office furniture")
    client = client_for(rep)
    url = reverse("contracts:contract_list")
    for fragment in ("精工", "液压", contract.number[-4:], contract.number.lower()):
        text = names_in(client.get(url, {"q": fragment}))
        assert contract.number in text, fragment
        assert "Office furniture" not in text, fragment


def test_the_search_reads_the_gram_index(rep):
    """The plan, not a timing: the gram condition is an index condition of the GIN index."""
    from customers.models import Customer
    from customers.selectors import customer_search

    CustomerFactory(owner=rep, name="杭州云栖科技有限公司")
    queryset = customer_search(Customer.objects.order_by(), "科技", reveal=True)
    with connection.cursor() as cursor:  # a tiny table: make the planner show what it could use
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.explain()
    assert "customer_search_idx" in plan


def test_quotes_and_tickets_are_found_by_a_two_character_fragment_and_their_number(client_for, rep, service_manager):
    from orders.tests.factories import opportunity_for, quote_for
    from service.tests.factories import ticket_for

    customer = CustomerFactory(owner=rep, name="无锡华辰电气")
    quote = quote_for(rep, opportunity_for(rep, customer), title="变压器年度维保报价")
    quote_for(rep, opportunity_for(rep, customer), title="Spare fuses")
    ticket = ticket_for(customer, subject="变压器异响投诉")
    ticket_for(customer, subject="Invoice copy")
    quotes, tickets = client_for(rep), client_for(service_manager)
    for fragment in ("压器", "维保", quote.number[-3:]):
        text = names_in(quotes.get(reverse("orders:quote_list"), {"q": fragment}))
        assert quote.number in text and "Spare fuses" not in text, fragment
    for fragment in ("异响", "压器", ticket.number[-3:]):
        text = names_in(tickets.get(reverse("service:ticket_list"), {"q": fragment}))
        assert ticket.number in text and "Invoice copy" not in text, fragment


@pytest.mark.parametrize(
    ("selector", "model", "index"),
    [
        ("orders.selectors.quote_search", "orders.Quote", "quote_search_idx"),
        ("service.selectors.ticket_search", "service.Ticket", "ticket_search_idx"),
    ],
)
def test_quote_and_ticket_search_read_their_gram_index(selector, model, index):
    from django.apps import apps
    from django.utils.module_loading import import_string

    queryset = import_string(selector)(apps.get_model(model).objects.order_by(), "报价")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.explain()
    assert index in plan


def planner(*names: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        return list(cursor.fetchone())


def read_while(name: str, value: str) -> RawSQL:
    """A condition true only for rows read while the planner setting `name` is `value`: a
    query run outside the setting finds nothing."""
    return RawSQL("current_setting(%s) = %s", [name, value], output_field=BooleanField())


def test_reading_few_matches_leaves_the_rest_of_the_transaction_its_planner_settings():
    with transaction.atomic():  # as a service or a request with its own transaction
        before = planner("enable_indexscan", "random_page_cost", "seq_page_cost")
        rows = few_matches_sorted(Permission.objects.order_by("codename")[:3])
        assert planner("enable_indexscan", "random_page_cost", "seq_page_cost") == before
    assert before[0] == "on"
    assert [row.codename for row in rows] == sorted(Permission.objects.values_list("codename", flat=True))[:3]


def test_few_matches_are_read_with_index_walks_off_and_the_page_costs_of_memory():
    CustomerFactory(name="Lotus Dyeing")
    found = customer_search(Customer.objects.order_by("name"), "lotus", reveal=True)
    planned = found.filter(read_while("enable_indexscan", "off"), read_while("random_page_cost", SEARCH_PAGE_COST))

    assert [row.name for row in few_matches_sorted(planned)] == ["Lotus Dyeing"]
    assert not planned.all().exists()  # outside it the same query finds nothing


def test_a_page_of_many_matches_is_read_newest_first_and_the_planner_settings_come_back():
    oldest, middle, newest = (CustomerFactory(name=f"Lotus {word}") for word in ("Dyeing", "Weaving", "Spinning"))
    CustomerFactory(name="Peony Tailoring")
    with transaction.atomic():
        before = planner("enable_sort", "max_parallel_workers_per_gather")
        found = customer_search(Customer.objects.order_by("-pk"), "lotus", reveal=True)
        rows = many_matches_newest(found.filter(read_while("enable_sort", "off"))[:2])
        assert planner("enable_sort", "max_parallel_workers_per_gather") == before
    assert before[0] == "on"
    assert rows == [newest, middle]  # read under the setting: outside it the filter finds none


def test_a_search_is_counted_with_the_page_costs_of_data_in_memory_and_they_are_put_back():
    CustomerFactory(name="Lotus Dyeing")
    CustomerFactory(name="Lotus Weaving")
    with transaction.atomic():
        before = planner("random_page_cost", "seq_page_cost")
        with planner_settings(connection.alias, SEARCH_PLANNER_SETTINGS):
            assert planner("random_page_cost", "seq_page_cost") == [SEARCH_PAGE_COST, SEARCH_PAGE_COST]
        assert planner("random_page_cost", "seq_page_cost") == before != [SEARCH_PAGE_COST, SEARCH_PAGE_COST]
        found = customer_search(Customer.objects.all(), "lotus", reveal=True)
        planned = found.filter(read_while("random_page_cost", SEARCH_PAGE_COST), read_while("seq_page_cost", "0.1"))
        assert search_match_counts([planned, planned.filter(name__contains="Weav")], 1000) == [2, 1]
        assert planned.count() == 0  # the same count outside the setting
        with pytest.raises(ZeroDivisionError), planner_settings(connection.alias, SEARCH_PLANNER_SETTINGS):
            1 / 0  # noqa: B018 - an error inside: its savepoint takes the settings back
        assert planner("random_page_cost", "seq_page_cost") == before
