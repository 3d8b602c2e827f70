"""Demo customers: a realistic, reproducible customer base, bulk-loaded for `seed_demo`.

The same seed gives the same customers, contacts and timeline entries in the same order
(their times are relative to `now`). Names, e-mails and phone numbers are unique by
construction, never by retrying:

- a customer's name is a combination of word lists (customers/demo_data.toml) picked by
  a seeded permutation of a per-category running index, so two indexes never give the
  same name (past the end of a list a branch number or middle initial is added);
- its e-mail and phone number carry the global running index (the e-mail in the local
  part, the phone scrambled by a bijection into the subscriber digits), and the phone
  formats cannot produce each other's digits.

The load bypasses the per-row services on purpose (100,000 customers in seconds, with
COPY); it runs in one transaction and is recorded by one `demo.seeded` audit event. The
later apps' demo data goes through their services (`<app>/demo.py`'s `demo_step`).
"""

import bisect
import itertools
import math
import random
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter
from pathlib import Path

from django.db import connection, transaction

from crm.core.audit import audit_record
from crm.core.bulk import batches, copy_rows, ids_reserve
from customers.choices import CustomerKind, CustomerStatus, CustomerTier, Industry, InteractionKind, Region
from customers.models import Contact, Customer, Interaction

BATCH_SIZE = 5000
# For the load's transaction only: the trigram (GIN) indexes take new rows into a pending
# list and merge it in bulk, which is much cheaper with more room for both.
BULK_LOAD_SETTINGS = ["work_mem = '64MB'", "gin_pending_list_limit = '64MB'"]
# Largest running index: the US subscriber numbers are a bijection of [0, 8,000,000).
MAX_INDEX = 8_000_000

# --- the word lists (formats described in the data file) ---------------------------------

_DATA = tomllib.loads((Path(__file__).with_name("demo_data.toml")).read_text(encoding="utf-8"))


def _words(text: str) -> list[str]:
    return text.split()


def _pairs(text: str) -> list[tuple[str, str]]:
    """`华 hua 信 xin` -> `[("华", "hua"), ("信", "xin")]`."""
    words = text.split()
    return list(zip(words[::2], words[1::2], strict=True))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines()]


ZH, EN = _DATA["zh"], _DATA["en"]
ZH_CITIES = [(city, code, districts.split(",")) for city, code, districts in map(str.split, _lines(ZH["cities"]))]
#: The province (or municipality) of each demo city; customers abroad are "outside China".
ZH_CITY_REGIONS = {
    "上海": Region.SHANGHAI, "北京": Region.BEIJING, "深圳": Region.GUANGDONG, "广州": Region.GUANGDONG,
    "杭州": Region.ZHEJIANG, "苏州": Region.JIANGSU, "南京": Region.JIANGSU, "成都": Region.SICHUAN,
    "武汉": Region.HUBEI, "天津": Region.TIANJIN, "重庆": Region.CHONGQING, "西安": Region.SHAANXI,
    "宁波": Region.ZHEJIANG, "厦门": Region.FUJIAN, "青岛": Region.SHANDONG, "无锡": Region.JIANGSU,
    "佛山": Region.GUANGDONG, "东莞": Region.GUANGDONG, "合肥": Region.ANHUI, "长沙": Region.HUNAN,
    "郑州": Region.HENAN, "济南": Region.SHANDONG, "福州": Region.FUJIAN, "大连": Region.LIAONING,
    "沈阳": Region.LIAONING, "昆明": Region.YUNNAN,
}  # fmt: skip
ZH_ROADS = _words(ZH["roads"])
ZH_BRAND_FIRST, ZH_BRAND_SECOND = _pairs(ZH["brand_first"]), _pairs(ZH["brand_second"])
ZH_INDUSTRIES = [(word, Industry(value)) for word, value in _pairs(ZH["industries"])]
ZH_COMPANY_SUFFIXES = _words(ZH["company_suffixes"])
ZH_SURNAMES, ZH_GIVEN_CHARS = _pairs(ZH["surnames"]), _pairs(ZH["given_chars"])
# Given names of one or two characters; after a one-character surname the length tells them apart.
ZH_GIVEN_NAMES = ZH_GIVEN_CHARS + [(a + b, pa + pb) for a, pa in ZH_GIVEN_CHARS for b, pb in ZH_GIVEN_CHARS]
ZH_MOBILE_PREFIXES, ZH_MAIL_HOSTS, ZH_MAILBOXES = (
    _words(ZH[key]) for key in ("mobile_prefixes", "mail_hosts", "mailboxes")
)
ZH_TITLES, ZH_NOTES = _words(ZH["titles"]), _words(ZH["notes"])

EN_BRAND_FIRST, EN_BRAND_SECOND = _words(EN["brand_first"]), _words(EN["brand_second"])
EN_INDUSTRIES = [(word, Industry(value)) for word, value in _pairs(EN["industries"])]
EN_COMPANY_SUFFIXES = _pairs(EN["company_suffixes"])
EN_FIRST_NAMES, EN_LAST_NAMES = _words(EN["first_names"]), _words(EN["last_names"])
EN_MAIL_HOSTS, EN_MAILBOXES = _words(EN["mail_hosts"]), _words(EN["mailboxes"])
EN_TITLES, EN_NOTES = _lines(EN["titles"]), _lines(EN["notes"])

UK_TOWNS, UK_STREETS = _pairs(_DATA["uk"]["towns"]), _lines(_DATA["uk"]["streets"])
US_CITIES = [tuple(line.split(",")) for line in _lines(_DATA["us"]["cities"])]
US_STREETS = _lines(_DATA["us"]["streets"])

# Per kind: (Chinese subjects, English subjects); the bodies likewise, each with an empty one.
INTERACTION_SUBJECTS = {
    InteractionKind(kind): (_lines(texts["zh"]), _lines(texts["en"])) for kind, texts in _DATA["interactions"].items()
}
INTERACTION_KINDS = list(INTERACTION_SUBJECTS)
INTERACTION_BODIES = tuple([*_lines(_DATA["interaction_bodies"][language]), ""] for language in ("zh", "en"))

STATUS_WEIGHTS = [
    (CustomerStatus.LEAD, 25),
    (CustomerStatus.PROSPECT, 20),
    (CustomerStatus.ACTIVE, 45),
    (CustomerStatus.CHURNED, 10),
]
TIER_WEIGHTS = [
    (CustomerTier.STRATEGIC, 3),
    (CustomerTier.KEY, 12),
    (CustomerTier.STANDARD, 50),
    (CustomerTier.SMALL, 35),
]
CATEGORY_WEIGHTS = [("zh_company", 62), ("en_company", 27), ("zh_person", 8), ("en_person", 3)]


# --- unique names by construction ------------------------------------------------------------


class Namespace:
    """Maps a running index to a unique tuple of picks, one from each slot.

    The index is scrambled by `index * a + b mod size` (a coprime to size: a bijection),
    so consecutive customers do not look alike; `cycle` counts how often the whole
    namespace was used up, and the caller makes it part of the name.
    """

    def __init__(self, rng: random.Random, *slots):
        self.slots = slots
        self.size = math.prod(len(slot) for slot in slots)
        self.a = rng.randrange(1, self.size)
        while math.gcd(self.a, self.size) != 1:
            self.a += 1
        self.b = rng.randrange(self.size)

    def __call__(self, index: int) -> tuple[tuple, int]:
        cycle, position = divmod(index, self.size)
        position = (position * self.a + self.b) % self.size
        picks = []
        for slot in reversed(self.slots):
            position, digit = divmod(position, len(slot))
            picks.append(slot[digit])
        return tuple(reversed(picks)), cycle


def _scrambler(rng: random.Random, size: int, split: int):
    """A seeded bijection of range(size) whose outputs for consecutive indexes look
    unrelated: an affine map, a swap of the high and low "digits" (base `split`, which
    divides `size`), and another affine map. Distinct indexes give distinct numbers."""
    assert size % split == 0
    high = size // split

    def coprime_multiplier():
        a = rng.randrange(size // 3, size)
        while math.gcd(a, size) != 1:
            a += 1
        return a

    a1, b1, a2, b2 = coprime_multiplier(), rng.randrange(size), coprime_multiplier(), rng.randrange(size)

    def scramble(index: int) -> int:
        value = (index * a1 + b1) % size
        value = (value % split) * high + value // split
        return (value * a2 + b2) % size

    return scramble


class DemoRandom(random.Random):
    """`random.Random` with cheaper `choice`, `randrange` and weighted picks built on
    `random()` alone: a big seed draws millions of values, and this halves the time."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randrange(self, start, stop=None):
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def weighted(self, values, cumulative):
        return values[bisect.bisect(cumulative, self.random() * cumulative[-1])]


def _middle_initials(cycle: int) -> str:
    """1 -> "A.", 26 -> "Z.", 27 -> "AA.": a different middle initial for every cycle."""
    letters = ""
    while cycle > 0:
        cycle, rest = divmod(cycle - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters + "."


@dataclass
class DemoContact:
    name: str
    title: str
    email: str
    phone: str
    is_primary: bool
    language: str = "en"  # the mail we send them: Chinese-speaking customers' contacts get Chinese


@dataclass
class DemoInteraction:
    kind: str
    subject: str
    body: str
    occurred_at: object
    contact_index: int | None  # index into the customer's contacts


@dataclass
class DemoCustomer:
    kind: str
    name: str
    industry: str
    tier: str
    status: str
    email: str
    phone: str
    address: str
    region: str
    owner_id: int
    notes: str
    created_at: object
    updated_at: object
    contacts: list = field(default_factory=list)
    interactions: list = field(default_factory=list)


class DemoData:
    """Generates the demo customers in order; the same seed gives the same rows.

    `base` is where the running index starts (the number of customers already there),
    so a second load into a non-empty database does not repeat the first one's names.
    """

    def __init__(self, *, seed: int, owner_ids: list[int], contacts_per_customer: int, now, base: int = 0):
        self.owner_ids = owner_ids
        self.contacts_per_customer = contacts_per_customer
        self.now = now
        self.base = base
        # Separate streams: the customers do not change when only the contact count does.
        self.rng = DemoRandom(f"customers-{seed}")
        self.contact_rng = DemoRandom(f"contacts-{seed}")
        self.timeline_rng = DemoRandom(f"timeline-{seed}")
        names = random.Random(f"names-{seed}")
        self.namespaces = {
            "zh_company": Namespace(
                names, ZH_CITIES, ZH_BRAND_FIRST, ZH_BRAND_SECOND, ZH_INDUSTRIES, ZH_COMPANY_SUFFIXES
            ),
            "en_company": Namespace(names, EN_BRAND_FIRST, EN_BRAND_SECOND, EN_INDUSTRIES, EN_COMPANY_SUFFIXES),
            "zh_person": Namespace(names, ZH_SURNAMES, ZH_GIVEN_NAMES),
            "en_person": Namespace(names, EN_FIRST_NAMES, EN_LAST_NAMES),
        }
        self.counters = dict.fromkeys(self.namespaces, base)
        self.zh_subscriber = _scrambler(names, 10**8, 10**4)
        self.uk_subscriber = _scrambler(names, 10**9, 10**4)
        self.us_subscriber = _scrambler(names, 8 * 10**6, 2000)
        self.categories, self.category_cum = _weighted(CATEGORY_WEIGHTS)
        self.statuses, self.status_cum = _weighted(STATUS_WEIGHTS)
        self.tiers, self.tier_cum = _weighted(TIER_WEIGHTS)

    def customers(self, count: int):
        for offset in range(count):
            yield self.customer(self.base + offset)

    def customer(self, index: int) -> DemoCustomer:
        rng = self.rng
        category = rng.weighted(self.categories, self.category_cum)
        counter = self.counters[category]
        self.counters[category] += 1
        picks, cycle = self.namespaces[category](counter)
        created_at = self.now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
        updated_at = created_at + (self.now - created_at) * rng.random() ** 2
        customer = DemoCustomer(
            kind=CustomerKind.COMPANY,
            name="",
            industry=Industry.OTHER,
            tier=rng.weighted(self.tiers, self.tier_cum),
            status=rng.weighted(self.statuses, self.status_cum),
            email="",
            phone="",
            address="",
            region=Region.OUTSIDE_CHINA,
            owner_id=rng.choice(self.owner_ids),
            notes="",
            created_at=created_at,
            updated_at=updated_at,
        )
        language = category[:2]
        if category == "zh_company":
            (city, city_code, districts), (b1, p1), (b2, p2), (industry_word, industry), suffix = picks
            customer.name = f"{city}{b1}{b2}{industry_word}{suffix}" + (f"第{cycle + 1}分公司" if cycle else "")
            customer.industry = industry
            domain = rng.choice([f"{p1}{p2}.com.cn", f"{city_code}{p1}{p2}.com", f"{p1}{p2}-{city_code}.cn"])
            customer.email = f"{rng.choice(ZH_MAILBOXES)}{index}@{domain}"
            customer.phone = self.zh_phone(index)
            customer.address = self.zh_address(city, districts)
            customer.region = ZH_CITY_REGIONS[city]
            country = "cn"
        elif category == "en_company":
            first, second, (industry_word, industry), (suffix, country) = picks
            brand = first + second
            extra = f" No. {cycle + 1}" if cycle else ""
            customer.name = f"{brand} {industry_word}{extra} {suffix}"
            customer.industry = industry
            domain = f"{brand}{industry_word}".lower() + (".co.uk" if country == "uk" else ".com")
            customer.email = f"{rng.choice(EN_MAILBOXES)}{index}@{domain}"
        elif category == "zh_person":
            (surname, surname_py), (given, given_py) = picks
            customer.kind = CustomerKind.INDIVIDUAL
            customer.name = f"{surname}{given}" + (f"（{cycle + 1}）" if cycle else "")
            customer.industry = rng.choice([Industry.OTHER, Industry.RETAIL, Industry.EDUCATION])
            customer.email = f"{surname_py}{given_py}{index}@{rng.choice(ZH_MAIL_HOSTS)}"
            customer.phone = self.zh_phone(index)
            city, _code, districts = rng.choice(ZH_CITIES)
            customer.address = self.zh_address(city, districts)
            customer.region = ZH_CITY_REGIONS[city]
            domain, country = "", "cn"
        else:
            first, last = picks
            customer.kind = CustomerKind.INDIVIDUAL
            customer.name = f"{first} {_middle_initials(cycle)} {last}" if cycle else f"{first} {last}"
            customer.industry = rng.choice([Industry.OTHER, Industry.RETAIL, Industry.EDUCATION])
            customer.email = f"{first}.{last}{index}@{rng.choice(EN_MAIL_HOSTS)}".lower()
            domain, country = "", rng.choice(["uk", "us"])
        if country == "uk":
            customer.phone = self.uk_phone(index)
            customer.address = self.uk_address()
        elif country == "us":
            city = rng.choice(US_CITIES)
            customer.phone = self.us_phone(index, city[3])
            customer.address = self.us_address(city)
        if customer.kind == CustomerKind.INDIVIDUAL:
            customer.tier = rng.choice([CustomerTier.STANDARD, CustomerTier.SMALL, CustomerTier.SMALL])
        if rng.random() < 0.04:
            customer.email = ""
        if rng.random() < 0.03:
            customer.phone = ""
        if rng.random() < 0.3:
            customer.notes = rng.choice(ZH_NOTES if language == "zh" else EN_NOTES)
        customer.contacts = self.contacts(customer, language, country, domain)
        customer.interactions = self.interactions(customer, language)
        return customer

    # Phone numbers: the subscriber digits are a bijection of the running index, and the
    # formats' digit strings differ in length or leading digits, so none can repeat.

    def zh_phone(self, index: int) -> str:
        prefix = self.rng.choice(ZH_MOBILE_PREFIXES)
        digits = f"{self.zh_subscriber(index):08d}"
        style = self.rng.random()
        if style < 0.6:
            return f"{prefix}{digits}"
        if style < 0.8:
            return f"{prefix}-{digits[:4]}-{digits[4:]}"
        return f"+86 {prefix} {digits[:4]} {digits[4:]}"

    def uk_phone(self, index: int) -> str:
        digits = f"{self.uk_subscriber(index):09d}"
        return f"+44 7{digits[:3]} {digits[3:]}"

    def us_phone(self, index: int, area_code: str) -> str:
        digits = str(2 * 10**6 + self.us_subscriber(index))
        return f"+1 {area_code}-{digits[:3]}-{digits[3:]}"

    def zh_address(self, city, districts) -> str:
        rng = self.rng
        address = f"{city}市{rng.choice(districts)}{rng.choice(ZH_ROADS)}{rng.randrange(1, 1200)}号"
        if rng.random() < 0.6:
            address += f"{rng.randrange(1, 12)}栋{rng.randrange(1, 30)}{rng.randrange(1, 20):02d}室"
        return address

    def uk_address(self) -> str:
        rng = self.rng
        town, area = rng.choice(UK_TOWNS)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"{area} {rng.randrange(1, 10)}{rng.choice(letters)}{rng.choice(letters)}"
        return f"{rng.randrange(1, 300)} {rng.choice(UK_STREETS)}\n{town} {postcode}\nUnited Kingdom"

    def us_address(self, city) -> str:
        rng = self.rng
        name, state, zip_prefix, _area = city
        return (
            f"{rng.randrange(1, 9999)} {rng.choice(US_STREETS)}, Suite {rng.randrange(100, 2000)}\n"
            f"{name}, {state} {zip_prefix}{rng.randrange(100):02d}\nUnited States"
        )

    def person(self, language: str) -> tuple[str, str]:
        """A random (not unique) person: display name and e-mail local part."""
        rng = self.contact_rng
        if language == "zh":
            surname, surname_py = rng.choice(ZH_SURNAMES)
            given, given_py = rng.choice(ZH_GIVEN_CHARS if rng.random() < 0.3 else ZH_GIVEN_NAMES[40:])
            return f"{surname}{given}", f"{given_py}.{surname_py}"
        first, last = rng.choice(EN_FIRST_NAMES), rng.choice(EN_LAST_NAMES)
        return f"{first} {last}", f"{first}.{last}".lower()

    def contact_phone(self, country: str) -> str:
        rng = self.contact_rng
        if country == "uk":
            return f"+44 7{rng.randrange(100, 1000)} {rng.randrange(10**6):06d}"
        if country == "us":
            return f"+1 {rng.choice(US_CITIES)[3]}-{rng.randrange(200, 1000)}-{rng.randrange(10**4):04d}"
        return f"{rng.choice(ZH_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"

    def contacts(self, customer: DemoCustomer, language: str, country: str, domain: str) -> list[DemoContact]:
        rng = self.contact_rng
        titles = ZH_TITLES if language == "zh" else EN_TITLES
        mail_language = "zh-hans" if language == "zh" else "en"
        contacts = []
        for number in range(self.contacts_per_customer):
            if customer.kind == CustomerKind.INDIVIDUAL and number == 0:
                # An individual's primary contact is the person themselves.
                contacts.append(DemoContact(customer.name, "", customer.email, customer.phone, True, mail_language))
                continue
            name, local = self.person(language)
            host = domain or rng.choice(ZH_MAIL_HOSTS if language == "zh" else EN_MAIL_HOSTS)
            email = "" if rng.random() < 0.1 else f"{local}@{host}"
            title = rng.choice(titles)
            phone = self.contact_phone(country)
            contacts.append(DemoContact(name, title, email, phone, number == 0, mail_language))
        return contacts

    def interactions(self, customer: DemoCustomer, language: str) -> list[DemoInteraction]:
        rng = self.timeline_rng
        if rng.random() >= 0.15:
            return []
        entries = []
        for _ in range(rng.randrange(1, 6)):
            kind = rng.choice(INTERACTION_KINDS)
            subjects = INTERACTION_SUBJECTS[kind][0 if language == "zh" else 1]
            body = rng.choice(INTERACTION_BODIES[0 if language == "zh" else 1])
            occurred_at = customer.created_at + (self.now - customer.created_at) * rng.random()
            contact_index = rng.randrange(len(customer.contacts)) if customer.contacts else None
            entries.append(DemoInteraction(kind, rng.choice(subjects), body, occurred_at, contact_index))
        return entries


def _weighted(pairs) -> tuple[list, list]:
    """`[(value, weight), ...]` -> values and cumulative weights, for `DemoRandom.weighted`."""
    values, weights = zip(*pairs, strict=True)
    return list(values), list(itertools.accumulate(weights))


# The generated fields of each row, in COPY column order (ids and links are added around them).
CUSTOMER_FIELDS = (
    "kind", "name", "industry", "tier", "status", "email", "phone", "address", "region", "owner_id", "notes",
    "created_at", "updated_at",
)  # fmt: skip
CONTACT_FIELDS = ("name", "title", "email", "phone", "is_primary", "language")
INTERACTION_FIELDS = ("kind", "subject", "body", "occurred_at")
CUSTOMER_COLUMNS = ["id", *CUSTOMER_FIELDS]
CONTACT_COLUMNS = ["id", "customer_id", *CONTACT_FIELDS, "created_at"]
INTERACTION_COLUMNS = ["customer_id", "contact_id", *INTERACTION_FIELDS, "author_id", "created_at"]
CUSTOMER_VALUES, CONTACT_VALUES, INTERACTION_VALUES = (
    attrgetter(*CUSTOMER_FIELDS),
    attrgetter(*CONTACT_FIELDS),
    attrgetter(*INTERACTION_FIELDS),
)


@transaction.atomic
def demo_customers_load(*, data: DemoData, count: int, admin, seed: int, progress=None) -> dict:
    """COPY `count` customers from `data` with their contacts and timeline, in one
    transaction recorded by one `demo.seeded` event; `progress(n)` hears of each batch.
    Returns the counts. A clash with an existing row raises IntegrityError."""
    counts = {"customers": 0, "contacts": 0, "interactions": 0}
    tables = {model: model._meta.db_table for model in (Customer, Contact, Interaction)}
    with connection.cursor() as cursor:
        for setting in BULK_LOAD_SETTINGS:
            cursor.execute(f"SET LOCAL {setting}")
        for batch in batches(data.customers(count), BATCH_SIZE):
            customer_ids = ids_reserve(cursor, tables[Customer], len(batch))
            contact_ids = iter(ids_reserve(cursor, tables[Contact], sum(len(c.contacts) for c in batch)))
            customer_rows, contact_rows, interaction_rows = [], [], []
            for customer_id, customer in zip(customer_ids, batch, strict=True):
                customer_rows.append((customer_id, *CUSTOMER_VALUES(customer)))
                own_contact_ids = []
                for contact in customer.contacts:
                    own_contact_ids.append(next(contact_ids))
                    contact_rows.append(
                        (own_contact_ids[-1], customer_id, *CONTACT_VALUES(contact), customer.created_at)
                    )
                for entry in customer.interactions:
                    contact_id = None if entry.contact_index is None else own_contact_ids[entry.contact_index]
                    interaction_rows.append(
                        (customer_id, contact_id, *INTERACTION_VALUES(entry), customer.owner_id, entry.occurred_at)
                    )
            copy_rows(cursor, tables[Customer], CUSTOMER_COLUMNS, customer_rows)
            copy_rows(cursor, tables[Contact], CONTACT_COLUMNS, contact_rows)
            copy_rows(cursor, tables[Interaction], INTERACTION_COLUMNS, interaction_rows)
            counts["customers"] += len(customer_rows)
            counts["contacts"] += len(contact_rows)
            counts["interactions"] += len(interaction_rows)
            if progress:
                progress(len(batch))
    audit_record(actor=None, action="demo.seeded", target=admin, extra={**counts, "seed": seed})
    return counts


def demo_customers_tidy() -> None:
    """Fresh planner statistics (and a clean trigram index) after a bulk load; skipped
    inside a caller's transaction, where VACUUM may not run."""
    if connection.in_atomic_block:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Customer, Contact, Interaction))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")


def demo_step(*, rng, users, contracts=300, customer_limit=200, **options) -> dict:
    """seed_demo's pipeline part: two years of won and lost deals and the open pipeline in
    every stage over the reps' customers, with their stage history and follow-ups."""
    from django.utils import timezone

    from crm.core.roles import Role
    from customers.demo_pipeline import demo_pipeline_seed

    reps = [user for user in users.values() if user.groups.filter(name=Role.SALES_REP).exists()]
    admin = next(user for user in users.values() if user.is_superuser)
    customers = dict(
        Customer.objects.filter(owner__in=reps).order_by("id").values_list("id", "owner_id")[:customer_limit]
    )
    if not customers:
        return {"opportunities": 0}
    scale = max(1, contracts // 100)
    return demo_pipeline_seed(
        seed=rng.randrange(2**31),
        customers=customers,
        now=timezone.now(),
        admin=admin,
        closed=160 * scale,
        open_=60 * scale,
    )
