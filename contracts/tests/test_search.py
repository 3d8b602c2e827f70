"""Finding contracts by fragments of number, title and customer name, among those you may see."""

import pytest

from contracts.selectors import contract_list, contract_search
from contracts.tests.factories import ContractFactory
from customers.tests.factories import CustomerFactory


@pytest.fixture
def contracts(rep, other_rep):
    tea = CustomerFactory(owner=rep, name="杭州龙井茶业有限公司")
    steel = CustomerFactory(owner=rep, name="Baotou Steel Works")
    theirs = CustomerFactory(owner=other_rep, name="Baotou Steel Trading")
    return {
        "tea": ContractFactory(owner=rep, customer=tea, title="Annual tea supply"),
        "steel": ContractFactory(owner=rep, customer=steel, title="Rolled coil framework"),
        "theirs": ContractFactory(owner=other_rep, customer=theirs, title="Rolled coil spot deal"),
    }


def found(user, text):
    return set(contract_search(contract_list(user=user), text).values_list("title", flat=True))


def test_search_by_title_customer_and_number_fragments(rep, contracts):
    assert found(rep, "coil") == {"Rolled coil framework"}
    assert found(rep, "baotou steel") == {"Rolled coil framework"}
    assert found(rep, contracts["tea"].number[-6:]) == {"Annual tea supply"}


def test_a_two_character_fragment_still_finds_by_customer_name(rep, contracts):
    assert found(rep, "龙井") == {"Annual tea supply"}


def test_search_never_reaches_past_visibility(rep, other_rep, manager, contracts):
    assert "Rolled coil spot deal" not in found(rep, "coil")
    assert found(other_rep, "coil") == {"Rolled coil spot deal"}
    assert found(manager, "coil") == {"Rolled coil framework", "Rolled coil spot deal"}
