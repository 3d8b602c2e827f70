"""Similar contracts: ranked by text, and only among those the user may see."""

import pytest

from contracts.similarity import similar_contracts
from contracts.tests.factories import ContractFactory
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]

PUMPS = (
    "Supply of 40 hydraulic pumps model HP-300 with installation at the Ningbo plant. "
    "Delivery in two lots; warranty of twelve months; spare seals included."
)
PUMPS_AGAIN = (
    "Supply of 45 hydraulic pumps model HP-300 with installation at the Suzhou plant. "
    "Delivery in two lots; warranty of twelve months; spare seals included."
)
HOSTING = "Cloud hosting of the customer's web shop, 99.9% availability, daily backups, 24/7 support desk."
TEA = "Delivery of green tea from Hangzhou, packed in 250 g tins, shipped monthly to the customer's stores."
PUMPS_ZH = "供应液压泵四十台，型号HP-300，含宁波工厂现场安装调试，分两批交货，质保十二个月。"
PUMPS_ZH_AGAIN = "供应液压泵四十五台，型号HP-300，含苏州工厂现场安装调试，分两批交货，质保十二个月。"
MAINTENANCE_ZH = "包装生产线年度维护保养服务，每季度上门巡检一次，故障四小时内响应。"


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep)


def draft(owner, customer, title, body):
    return ContractFactory(owner=owner, customer=customer, title=title, body=body)


def test_the_near_duplicate_ranks_first(rep, customer):
    contract = draft(rep, customer, "Hydraulic pumps for Ningbo", PUMPS)
    near = draft(rep, customer, "Hydraulic pumps for Suzhou", PUMPS_AGAIN)
    draft(rep, customer, "Web shop hosting", HOSTING)
    draft(rep, customer, "Tea for the stores", TEA)

    found = similar_contracts(contract, user=rep)

    assert found[0][0] == near
    assert found[0][1] > 0.5
    assert [score for _contract, score in found] == sorted((score for _c, score in found), reverse=True)
    assert contract not in [similar for similar, _score in found]


def test_chinese_text_finds_its_near_duplicate(rep, customer):
    contract = draft(rep, customer, "宁波液压泵供货合同", PUMPS_ZH)
    near = draft(rep, customer, "苏州液压泵供货合同", PUMPS_ZH_AGAIN)
    unrelated = draft(rep, customer, "包装线维护服务合同", MAINTENANCE_ZH)
    draft(rep, customer, "Web shop hosting", HOSTING)

    found = dict(similar_contracts(contract, user=rep))

    assert max(found, key=found.get) == near
    assert found.get(unrelated, 0) < found[near] / 2


def test_contracts_of_other_reps_are_never_listed(rep, other_rep, manager, customer):
    contract = draft(rep, customer, "Hydraulic pumps for Ningbo", PUMPS)
    theirs = draft(other_rep, CustomerFactory(owner=other_rep), "Hydraulic pumps for Ningbo", PUMPS)
    mine = draft(rep, customer, "Hydraulic pumps for Suzhou", PUMPS_AGAIN)

    for_rep = [similar for similar, _score in similar_contracts(contract, user=rep)]
    for_manager = [similar for similar, _score in similar_contracts(contract, user=manager)]

    assert for_rep == [mine]
    assert for_manager[0] == theirs  # the manager sees every contract; the exact copy ranks first


def test_limit_threshold_and_no_candidates(rep, customer):
    contract = draft(rep, customer, "Hydraulic pumps for Ningbo", PUMPS)
    assert similar_contracts(contract, user=rep) == []

    for number in range(4):
        draft(rep, customer, f"Hydraulic pumps lot {number}", PUMPS_AGAIN)
    draft(rep, customer, "Tea for the stores", TEA)

    assert len(similar_contracts(contract, user=rep, limit=2)) == 2
    assert len(similar_contracts(contract, user=rep, candidates=1)) == 1
    assert all(score > 0.1 for _contract, score in similar_contracts(contract, user=rep))
