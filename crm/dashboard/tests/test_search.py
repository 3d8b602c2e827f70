"""The navigation's search box and the /search/ page: grouped by kind, over what the user may
see, masked as everywhere, and calm whatever is typed into it."""

import pytest
from django.urls import reverse

from contracts.tests.factories import ContractFactory
from crm.core.search import SEARCH_COUNT_CAP, SearchHit, SearchProvider, search_provider_register, search_providers
from customers.tests.factories import ContactFactory, CustomerFactory
from orders.tests.factories import order_for

pytestmark = pytest.mark.django_db
BOX = {"HTTP_HX_REQUEST": "true"}
SEARCH = reverse("dashboard:search")


@pytest.fixture
def seeded(rep, other_rep):
    """`rep`'s Lotus customer with a contact, a contract and an order, and `other_rep`'s Lotus customer."""
    mine = CustomerFactory(
        owner=rep, name="Blue Lotus Textiles", email="buyer@bluelotus.example.cn", phone="13912345678"
    )
    ContactFactory(customer=mine, name="Lotus Wang", email="wang@bluelotus.example.cn")
    contract = ContractFactory(owner=rep, customer=mine, title="Lotus yarn supply")
    order = order_for(rep, mine)
    theirs = CustomerFactory(owner=other_rep, name="Lotus Garden Hotel", phone="13700001111")
    return {"mine": mine, "contract": contract, "order": order, "theirs": theirs}


def box(client, text, **extra):
    response = client.get(SEARCH, {"q": text}, **{**BOX, **extra})
    assert response.status_code == 200
    return response.content.decode()


def test_the_box_groups_what_matches_by_kind_with_counts_and_links_to_each_list(client_for, rep, seeded):
    html = box(client_for(rep), "lotus")
    for kind in ("customers", "contacts", "contracts"):
        assert f'data-testid="search-group-{kind}"' in html
    assert 'data-testid="search-group-orders"' in html  # the order of Blue Lotus Textiles, by its customer's name
    assert "Blue Lotus Textiles" in html and "Lotus Wang" in html and seeded["contract"].number in html
    assert 'data-testid="search-count-customers" title="Matches">1<' in html
    assert "<html" not in html  # the box gets the groups, not a page

    html = box(client_for(rep), seeded["order"].number[-6:])
    assert 'data-testid="search-group-orders"' in html and seeded["order"].get_absolute_url() in html


def test_more_matches_than_shown_say_so_and_link_to_the_filtered_list(client_for, rep):
    CustomerFactory.create_batch(7, owner=rep, name=factory_name("Harbour"))
    html = box(client_for(rep), "harbour")
    assert html.count('class="search-hit d-block text-decoration-none"') == 5
    assert 'data-testid="search-count-customers" title="Matches">7<' in html
    assert f'href="{reverse("customers:customer_list")}?q=harbour"' in html


def factory_name(prefix):
    import factory

    return factory.Sequence(lambda n: f"{prefix} Logistics {n}")


def test_a_count_beyond_the_cap_shows_as_cap_plus(client_for, manager, rep):
    CustomerFactory.create_batch(SEARCH_COUNT_CAP + 2, owner=rep, name=factory_name("Capped"))
    html = box(client_for(manager), "capped")
    assert f'data-testid="search-count-customers" title="Matches">{SEARCH_COUNT_CAP}+<' in html


def test_a_rep_never_finds_another_reps_records(client_for, rep, other_rep, seeded):
    html = box(client_for(rep), "lotus")
    assert "Lotus Garden Hotel" not in html
    html = box(client_for(other_rep), "lotus")
    assert "Lotus Garden Hotel" in html
    assert "Blue Lotus Textiles" not in html and "Lotus Wang" not in html and seeded["contract"].number not in html
    assert 'data-testid="search-group-contracts"' not in html
    html = box(client_for(other_rep), seeded["order"].number)
    assert 'data-testid="search-nothing"' in html


def test_the_manager_finds_every_reps_records(client_for, manager, seeded):
    html = box(client_for(manager), "lotus")
    assert "Lotus Garden Hotel" in html and "Blue Lotus Textiles" in html


def test_a_masked_role_sees_hits_masked_and_cannot_confirm_a_phone_number(client_for, rep, agent, seeded):
    html = box(client_for(agent), "lotus")
    assert "Blue Lotus Textiles" in html
    assert "139****5678" in html and "13912345678" not in html
    assert "b***@bluelotus.example.cn" in html and "buyer@bluelotus" not in html

    assert "Blue Lotus Textiles" in box(client_for(rep), "13912345678")
    for probe in ("13912345678", "139 1234 5678", "buyer@bluelotus.example.cn"):
        html = box(client_for(agent), probe)
        assert "Blue Lotus Textiles" not in html
        assert 'data-testid="search-nothing"' in html
    # A fragment too short to be a phone number still finds nothing by phone for the agent.
    assert "Blue Lotus Textiles" not in box(client_for(agent), "345678")


@pytest.mark.parametrize(
    "text",
    ["%", "_", "\\", "'; DROP TABLE customers_customer; --", "\x00lotus", "lotus" * 40, "<script>x</script>", "  "],
)
def test_hostile_text_never_fails_the_box_or_the_page(client_for, rep, seeded, text):
    client = client_for(rep)
    html = box(client, text)
    assert "Blue Lotus Textiles" not in html
    assert "<script>x" not in html
    page = client.get(SEARCH, {"q": text})
    assert page.status_code == 200
    assert "<script>x" not in page.content.decode()


def test_overlong_text_is_refused_next_to_the_field(client_for, rep):
    html = client_for(rep).get(SEARCH, {"q": "x" * 101}).content.decode()
    assert "Ensure this value has at most 100 characters" in html
    assert 'class="invalid-feedback d-block"' in html


def test_one_character_asks_for_more(client_for, rep, seeded):
    html = box(client_for(rep), "l")
    assert "Type at least 2 characters." in html and "Blue Lotus" not in html


def test_the_page_works_without_javascript_and_keeps_the_text(client_for, rep, seeded):
    response = client_for(rep).get(SEARCH, {"q": "lotus"})
    html = response.content.decode()
    assert "<html" in html and 'data-testid="search-group-customers"' in html
    assert 'value="lotus"' in html
    assert "HX-Request" in response["Vary"]


def test_the_box_and_the_page_speak_chinese(client_for, rep, seeded):
    html = box(client_for(rep), "lotus", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "客户" in html and "联系人" in html and "合同" in html
    page = client_for(rep).get(SEARCH, {"q": "l"}, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "搜索" in page and "请至少输入 2 个字符。" in page


def test_a_new_app_joins_the_box_by_registering_a_provider(client_for, rep, seeded):
    """What quotes or tickets will do in their AppConfig.ready(): no change to the box."""
    from customers.models import Customer

    before = {provider.kind: provider for provider in search_providers()}
    search_provider_register(
        SearchProvider(
            kind="quotes",
            label="Quotes",
            permission="customers.view_customer",
            find=lambda user, text: Customer.objects.visible_to(user).filter(name__icontains=text).order_by("pk"),
            hit=lambda customer, masker: SearchHit(heading=f"Q-{customer.pk}", summary="", url="/"),
            list_url_name="customers:customer_list",
            position=50,
        )
    )
    try:
        html = box(client_for(rep), "lotus")
        assert 'data-testid="search-group-quotes"' in html and f"Q-{seeded['mine'].pk}" in html
        assert html.index("search-group-customers") < html.index("search-group-quotes")
    finally:
        from crm.core import search

        search._providers.clear()
        search._providers.update(before)


def test_the_navigation_carries_the_box_wired_for_htmx(client_for, rep):
    html = client_for(rep).get(reverse("dashboard:home")).content.decode()
    assert 'hx-get="/search/"' in html and 'hx-trigger="input changed delay:250ms, search"' in html
    assert 'action="/search/"' in html


def test_the_box_asks_few_queries_whatever_the_number_of_matches(
    client_for, manager, rep, django_assert_max_num_queries
):
    CustomerFactory.create_batch(30, owner=rep, name=factory_name("Query"))
    client = client_for(manager)
    box(client, "query")
    # Per kind a capped count, all counted under one planner setting (crm.core.gram_search.
    # search_match_counts); for a kind with few matches also the sorted ids (under another,
    # few_matches_sorted) and their rows. A setting is two queries, and in a test's
    # transaction a savepoint two more.
    with django_assert_max_num_queries(19):
        box(client, "query")


def test_quotes_and_tickets_join_the_box_for_who_may_see_them(client_for, rep, other_rep, agent, seeded):
    from orders.tests.factories import opportunity_for, quote_for
    from service.tests.factories import ticket_for

    quote = quote_for(rep, opportunity_for(rep, seeded["mine"]), title="Lotus dyeing line")
    ticket = ticket_for(seeded["mine"], subject="Lotus loom stopped")
    hidden = ticket_for(seeded["theirs"], subject="Lotus kitchen leak")

    html = box(client_for(rep), "lotus")
    assert 'data-testid="search-group-quotes"' in html and quote.get_absolute_url() in html
    assert 'data-testid="search-group-tickets"' in html and ticket.number in html
    assert hidden.number not in html  # the other rep's customer's ticket
    by_number = box(client_for(agent), ticket.number)
    assert ticket.get_absolute_url() in by_number and 'data-testid="search-group-quotes"' not in by_number
