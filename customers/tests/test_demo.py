"""The demo customer generator (customers/demo.py): the same seed gives the same data.

The fingerprints below were taken from the generator before it moved out of the
seed_demo command; a change to the word lists, the streams or the draw order shows here.
"""

import datetime
import hashlib
import json

import pytest

from customers.demo import DemoData

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


def without_language(row: dict) -> dict:
    return {name: value for name, value in row.items() if name != "language"}


def fingerprint(*, seed: int, count: int, contacts_per_customer: int = 2, base: int = 0) -> str:
    data = DemoData(seed=seed, owner_ids=[11, 12, 13], contacts_per_customer=contacts_per_customer, now=NOW, base=base)
    rows = [
        (
            # The region follows from the city or country (no draw): left out too.
            {name: value for name, value in vars(customer).items() if name != "region"}
            # A contact's mail language follows from the customer's kind (no draw): left out,
            # so the fingerprints still prove the draws are unchanged.
            | {"contacts": [without_language(vars(c)) for c in customer.contacts]}
            | {"interactions": [vars(i) for i in customer.interactions]}
        )
        for customer in data.customers(count)
    ]
    return hashlib.sha256(json.dumps(rows, default=str, ensure_ascii=False).encode()).hexdigest()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"seed": 42, "count": 3000}, "1f07fd2ab9b4baea29527f9c1e631750d32106719f241212fd037c55c4bfe156"),
        (
            {"seed": 7, "count": 1000, "contacts_per_customer": 3, "base": 70_000},
            "89d7a6bf3c5424cc8d6ad61f97232d6f32a31b6d6f35b57a6a5163815027378f",
        ),
    ],
)
def test_the_same_seed_gives_the_same_data(options, expected):
    assert fingerprint(**options) == fingerprint(**options) == expected


def test_another_seed_gives_other_data():
    assert fingerprint(seed=1, count=50) != fingerprint(seed=2, count=50)


def test_contacts_of_chinese_customers_read_chinese_the_others_english():
    data = DemoData(seed=42, owner_ids=[11], contacts_per_customer=2, now=NOW)
    seen = set()
    for customer in data.customers(400):
        for contact in customer.contacts:
            chinese = any("\u4e00" <= char <= "\u9fff" for char in customer.name)
            assert contact.language == ("zh-hans" if chinese else "en"), (customer.name, contact.language)
            seen.add(contact.language)
    assert seen == {"en", "zh-hans"}


def test_the_region_is_the_province_of_the_address_and_outside_china_abroad():
    data = DemoData(seed=42, owner_ids=[11], contacts_per_customer=0, now=NOW)
    regions = set()
    for customer in data.customers(400):
        regions.add(customer.region)
        if customer.address.startswith("深圳市") or customer.address.startswith("广州市"):
            assert customer.region == "guangdong"
        elif customer.address.startswith("上海市"):
            assert customer.region == "shanghai"
        elif "United Kingdom" in customer.address or "United States" in customer.address:
            assert customer.region == "outside_china"
    assert {"guangdong", "shanghai", "outside_china"} <= regions and "" not in regions
