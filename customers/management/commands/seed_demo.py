"""`manage.py seed_demo`: the demo users and a realistic, reproducible customer base.

The same `--seed` gives the same customers, contacts and timeline entries in the same
order (their times are relative to when the command runs). Names, e-mails and phone
numbers are unique by construction, never by retrying:

- a customer's name is a combination of word lists picked by a seeded permutation of a
  per-category running index, so two indexes never give the same name (past the end of
  a list a branch number or middle initial is added);
- its e-mail and phone number carry the global running index (the e-mail in the local
  part, the phone scrambled by a bijection into the subscriber digits), and the phone
  formats cannot produce each other's digits.

The bulk load bypasses the per-row services on purpose (100,000 customers in seconds,
with COPY); it runs in one transaction and is recorded by one `demo.seeded` audit event.
"""

import bisect
import io
import itertools
import math
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter

from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm.core.audit import audit_record
from crm.core.commands import CrmCommand
from crm.core.demo import DEMO_USERS, demo_steps, demo_user, demo_users_ensure
from crm.core.roles import Role
from customers.choices import CustomerKind, CustomerStatus, CustomerTier, Industry, InteractionKind
from customers.models import Contact, Customer, Interaction

BATCH_SIZE = 5000
# For this transaction only: the trigram (GIN) indexes take new rows into a pending list
# and merge it in bulk, which is much cheaper with more room for both.
BULK_LOAD_SETTINGS = ["work_mem = '64MB'", "gin_pending_list_limit = '64MB'"]
# Largest running index: the US subscriber numbers are a bijection of [0, 8,000,000).
MAX_INDEX = 8_000_000

# --- word lists ----------------------------------------------------------------------------
# Every entry of a name slot has a fixed shape (two CJK characters, one English word...),
# so different picks can never spell the same name.


def _pairs(text: str) -> list[tuple[str, str]]:
    """Split `华 hua 信 xin` into `[("华", "hua"), ("信", "xin")]`."""
    words = text.split()
    return list(zip(words[::2], words[1::2], strict=True))


def _words(text: str) -> list[str]:
    return text.split()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines()]


# City, short code for web domains, districts.
ZH_CITIES = [
    (city, code, districts.split(","))
    for city, code, districts in (
        line.split()
        for line in _lines(
            """
            上海 sh 浦东新区,闵行区,嘉定区,徐汇区
            北京 bj 朝阳区,海淀区,丰台区,大兴区
            深圳 sz 南山区,福田区,宝安区,龙岗区
            广州 gz 天河区,黄埔区,番禺区,白云区
            杭州 hz 滨江区,余杭区,西湖区,萧山区
            苏州 su 工业园区,吴中区,相城区,虎丘区
            南京 nj 江宁区,鼓楼区,建邺区,栖霞区
            成都 cd 高新区,武侯区,锦江区,双流区
            武汉 wh 江夏区,洪山区,东西湖区,汉阳区
            天津 tj 滨海新区,西青区,南开区,河西区
            重庆 cq 渝北区,江北区,九龙坡区,沙坪坝区
            西安 xa 雁塔区,未央区,长安区,碑林区
            宁波 nb 鄞州区,北仑区,镇海区,海曙区
            厦门 xm 思明区,湖里区,集美区,海沧区
            青岛 qd 黄岛区,崂山区,市南区,城阳区
            无锡 wx 新吴区,滨湖区,梁溪区,锡山区
            佛山 fs 顺德区,南海区,禅城区,三水区
            东莞 dg 松山湖,长安镇,虎门镇,南城街道
            合肥 hf 蜀山区,包河区,庐阳区,瑶海区
            长沙 cs 岳麓区,雨花区,开福区,天心区
            郑州 zz 金水区,二七区,中原区,管城区
            济南 jn 历下区,槐荫区,天桥区,历城区
            福州 fz 鼓楼区,台江区,仓山区,晋安区
            大连 dl 甘井子区,沙河口区,中山区,金州区
            沈阳 sy 和平区,沈河区,浑南区,铁西区
            昆明 km 五华区,盘龙区,官渡区,西山区
            """
        )
    )
]
ZH_ROADS = _words(
    "人民路 中山路 解放路 建设路 和平路 长江路 黄河路 科技路 创新大道 世纪大道 "
    "学府路 光明路 新华路 文化路 东风路 滨江大道 高新大道 工业大道 金桥路 开发区大道"
)
ZH_BRAND_FIRST = _pairs(
    "华 hua 信 xin 瑞 rui 恒 heng 泰 tai 达 da 诚 cheng 康 kang 盛 sheng 德 de "
    "丰 feng 宏 hong 远 yuan 鑫 xin 嘉 jia 安 an 天 tian 正 zheng 中 zhong 联 lian"
)
ZH_BRAND_SECOND = _pairs(
    "兴 xing 源 yuan 昌 chang 隆 long 顺 shun 通 tong 科 ke 创 chuang 汇 hui 辉 hui "
    "明 ming 美 mei 邦 bang 力 li 腾 teng 宇 yu 润 run 博 bo 晟 sheng 凯 kai"
)
# Four characters each, with the industry they belong to.
ZH_INDUSTRIES = [
    (word, Industry(value))
    for word, value in _pairs(
        """
        精密机械 manufacturing 智能装备 manufacturing 汽车配件 manufacturing 化工材料 manufacturing
        纺织服装 manufacturing 五金制品 manufacturing 商贸发展 retail 食品贸易 retail 连锁超市 retail
        电子商务 retail 投资管理 finance 融资租赁 finance 金融服务 finance 医疗器械 healthcare
        生物医药 healthcare 健康管理 healthcare 电子科技 technology 信息技术 technology
        网络科技 technology 软件开发 technology 光电科技 technology 教育科技 education
        职业培训 education 国际物流 logistics 货运代理 logistics 仓储服务 logistics 能源科技 energy
        电力工程 energy 燃气设备 energy 城建投资 government 市政工程 government 建筑工程 other
        环保科技 other 文化传播 other 企业管理 other
        """
    )
]
ZH_COMPANY_SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司"]

ZH_SURNAMES = _pairs(
    "王 wang 李 li 张 zhang 刘 liu 陈 chen 杨 yang 黄 huang 赵 zhao 吴 wu 周 zhou 徐 xu 孙 sun "
    "马 ma 朱 zhu 胡 hu 郭 guo 何 he 林 lin 高 gao 罗 luo 郑 zheng 梁 liang 谢 xie 宋 song 唐 tang "
    "许 xu 韩 han 冯 feng 邓 deng 曹 cao 彭 peng 曾 zeng 肖 xiao 田 tian 董 dong 潘 pan 袁 yuan "
    "蔡 cai 蒋 jiang 余 yu"
)
ZH_GIVEN_CHARS = _pairs(
    "伟 wei 芳 fang 娜 na 敏 min 静 jing 丽 li 强 qiang 磊 lei 军 jun 洋 yang 勇 yong 艳 yan 杰 jie "
    "娟 juan 涛 tao 明 ming 超 chao 秀 xiu 霞 xia 平 ping 刚 gang 桂 gui 英 ying 华 hua 玉 yu 建 jian "
    "文 wen 斌 bin 宇 yu 浩 hao 凯 kai 鹏 peng 婷 ting 欣 xin 琳 lin 晨 chen 悦 yue 子 zi 梓 zi 涵 han"
)
# Given names of one or two characters; after a one-character surname the length tells them apart.
ZH_GIVEN_NAMES = ZH_GIVEN_CHARS + [(a + b, pa + pb) for a, pa in ZH_GIVEN_CHARS for b, pb in ZH_GIVEN_CHARS]

EN_BRAND_FIRST = _words(
    "North South East West Blue Red Green Silver Golden Iron Stone Oak Pine Maple Cedar River Lake "
    "Bright Clear High Swift Star Sun Moon Crown Royal Summit Harbor Bay Fair Kings Queens Ever Wild "
    "Frost Storm Cross Black White Gray"
)
EN_BRAND_SECOND = _words(
    "wind field bridge gate wood stone point view crest ridge ford brook haven way light line port "
    "land mark water well vale hill wick worth ton dale shore rock bury"
)
EN_INDUSTRIES = [
    (word, Industry(value))
    for word, value in _pairs(
        """
        Logistics logistics Freight logistics Shipping logistics Manufacturing manufacturing
        Engineering manufacturing Industries manufacturing Retail retail Trading retail Foods retail
        Capital finance Finance finance Insurance finance Health healthcare Medical healthcare
        Pharma healthcare Software technology Systems technology Digital technology
        Analytics technology Learning education Academy education Energy energy Power energy
        Solar energy Consulting other Partners other Holdings other Services other
        """
    )
]
# The suffix decides the country, and with it the address, phone number and web domain.
EN_COMPANY_SUFFIXES = _pairs("Ltd uk PLC uk Limited uk Inc. us LLC us Corp. us")

EN_FIRST_NAMES = _words(
    "James Oliver Jack Harry George Noah Charlie Thomas William Henry Daniel Samuel Joseph David "
    "Michael Robert Richard Andrew Peter Paul Mark Simon Edward Benjamin Lucas Ethan Ryan Adam Matthew "
    "Christopher Anthony Steven Kevin Brian Jason Alex Nathan Ian Tom Luke Emma Olivia Amelia Isla Ava "
    "Mia Sophia Grace Lily Emily Charlotte Chloe Lucy Hannah Sarah Jessica Laura Rachel Rebecca Anna "
    "Kate Helen Claire Megan Ella Zoe Ruby Alice Holly Jennifer Elizabeth Mary Susan Karen Linda Nancy "
    "Julia Victoria Natalie Sophie"
)
EN_LAST_NAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker "
    "White Roberts Green Hall Wood Jackson Clarke Clark Lewis Harris Martin Cooper King Lee Baker "
    "Harrison Morgan Allen Young Scott Mitchell Turner Hill Moore Ward Watson Carter Phillips Parker "
    "Bennett Hughes Edwards Collins Stewart Morris Murphy Cook Rogers Bell Kelly Richardson Cox "
    "Marshall Bailey Adams Campbell Anderson Miller Davis Garcia Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Nelson Perez Sanchez Ramirez Torres Nguyen Flores Rivera Gomez Reed Howard Foster"
)

UK_TOWNS = _pairs(
    "London EC1A Manchester M1 Leeds LS1 Birmingham B1 Bristol BS1 Glasgow G1 Edinburgh EH1 "
    "Liverpool L1 Cambridge CB1 Reading RG1"
)
UK_STREETS = _lines(
    """
    High Street
    Station Road
    Church Lane
    Mill Road
    Victoria Street
    Park Avenue
    King Street
    Queen's Road
    London Road
    Manor Way
    """
)
# City, state, ZIP prefix, area code. The area codes start with 2, 4, 6 or 7, so the digits
# of a "+1" number never read like a Chinese 13x/15x/18x mobile number.
US_CITIES = [
    tuple(line.split(","))
    for line in _lines(
        """
        New York,NY,100,212
        San Francisco,CA,941,415
        Boston,MA,021,617
        Seattle,WA,981,206
        Atlanta,GA,303,404
        Los Angeles,CA,900,213
        Denver,CO,802,720
        Houston,TX,770,713
        Philadelphia,PA,191,215
        Washington,DC,200,202
        Minneapolis,MN,554,612
        Austin,TX,787,737
        """
    )
]
US_STREETS = _lines(
    """
    Main Street
    Market Street
    Broadway
    Elm Street
    Washington Avenue
    Lake Shore Drive
    Park Place
    Commerce Boulevard
    Oak Street
    5th Avenue
    """
)

ZH_MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + [f"15{d}" for d in "012356789"] + [f"18{d}" for d in range(10)]
ZH_MAIL_HOSTS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com"]
EN_MAIL_HOSTS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com"]
ZH_MAILBOXES = ["sales", "info", "purchase", "contact", "service", "office"]
EN_MAILBOXES = ["sales", "info", "procurement", "accounts", "hello", "office"]

ZH_TITLES = _words("采购经理 总经理 财务总监 技术总监 销售经理 行政主管 项目经理 副总经理 采购专员 运营总监")
EN_TITLES = _lines(
    """
    Purchasing Manager
    Managing Director
    Finance Director
    CTO
    Head of Operations
    Procurement Lead
    Office Manager
    Project Manager
    CEO
    Account Manager
    """
)
ZH_NOTES = _words("年度框架协议客户，关注交付周期。 对价格敏感，折扣需经理审批。 展会获取的线索，待跟进。 老客户推荐。")
EN_NOTES = _lines(
    """
    Met at the Canton Fair.
    Prefers quarterly invoicing.
    Referred by an existing customer.
    Price-sensitive; discounts need manager approval.
    Pays on time; candidate for key account.
    """
)

# Per kind: (Chinese subjects, English subjects).
INTERACTION_SUBJECTS = {
    InteractionKind.CALL: (
        ["电话跟进报价", "确认交货时间", "回访使用情况"],
        ["Follow-up call on the quote", "Confirmed the delivery date", "Check-in call"],
    ),
    InteractionKind.MEETING: (
        ["上门拜访，介绍新产品", "年度合作洽谈", "技术方案评审"],
        ["On-site visit: product demo", "Annual account review", "Technical workshop"],
    ),
    InteractionKind.EMAIL: (
        ["发送产品目录", "发送报价单", "寄送样品通知"],
        ["Sent the product catalogue", "Sent the quotation", "Sample shipment notice"],
    ),
    InteractionKind.NOTE: (
        ["客户预算将在下季度确定", "决策人变更", "竞品报价更低"],
        ["Budget decision expected next quarter", "New decision maker", "Competitor quoted lower"],
    ),
}
INTERACTION_KINDS = list(INTERACTION_SUBJECTS)
INTERACTION_BODIES = (
    ["客户反馈积极，约定下周再联系。", "需要提供更详细的技术参数。", ""],
    ["Positive feedback; agreed to talk again next week.", "They need detailed specifications.", ""],
)

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
            customer.address = self.zh_address(*rng.choice(ZH_CITIES)[::2])
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
        contacts = []
        for number in range(self.contacts_per_customer):
            if customer.kind == CustomerKind.INDIVIDUAL and number == 0:
                # An individual's primary contact is the person themselves.
                contacts.append(DemoContact(customer.name, "", customer.email, customer.phone, True))
                continue
            name, local = self.person(language)
            host = domain or rng.choice(ZH_MAIL_HOSTS if language == "zh" else EN_MAIL_HOSTS)
            email = "" if rng.random() < 0.1 else f"{local}@{host}"
            contacts.append(DemoContact(name, rng.choice(titles), email, self.contact_phone(country), number == 0))
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


# --- COPY ------------------------------------------------------------------------------------


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy(cursor, model, columns, rows) -> None:
    """COPY rows into the model's table (text format)."""
    if not rows:
        return
    buffer = io.StringIO()
    buffer.writelines("\t".join(_copy_value(value) for value in row) + "\n" for row in rows)
    buffer.seek(0)
    quoted = connection.ops.quote_name
    sql = f"COPY {quoted(model._meta.db_table)} ({', '.join(quoted(c) for c in columns)}) FROM STDIN"
    with connection.wrap_database_errors:
        cursor.copy_expert(sql, buffer)


def _reserve_ids(cursor, model, count: int) -> list[int]:
    """Take `count` ids from the table's identity sequence, as plain inserts would."""
    if not count:
        return []
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
    return sorted(row[0] for row in cursor.fetchall())


def _batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# The generated fields of each row, in COPY column order (ids and links are added around them).
CUSTOMER_FIELDS = (
    "kind", "name", "industry", "tier", "status", "email", "phone", "address", "owner_id", "notes",
    "created_at", "updated_at",
)  # fmt: skip
CONTACT_FIELDS = ("name", "title", "email", "phone", "is_primary")
INTERACTION_FIELDS = ("kind", "subject", "body", "occurred_at")
CUSTOMER_COLUMNS = ["id", *CUSTOMER_FIELDS]
CONTACT_COLUMNS = ["id", "customer_id", *CONTACT_FIELDS, "created_at"]
INTERACTION_COLUMNS = ["customer_id", "contact_id", *INTERACTION_FIELDS, "author_id", "created_at"]
CUSTOMER_VALUES, CONTACT_VALUES, INTERACTION_VALUES = (
    attrgetter(*CUSTOMER_FIELDS),
    attrgetter(*CONTACT_FIELDS),
    attrgetter(*INTERACTION_FIELDS),
)


class Command(CrmCommand):
    help = (
        "Create the demo users (one or more per role, password in crm/core/demo.py) and a realistic, "
        "reproducible set of customers with contacts and timeline entries."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=200, help="How many customers (default 200).")
        parser.add_argument("--contacts-per-customer", type=int, default=2, help="Contacts per customer (default 2).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: same seed, same data (default 42).")
        parser.add_argument(
            "--contracts",
            type=int,
            default=300,
            help="Contracts through the whole workflow, with orders against the signed ones (default 300; 0: none).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Add no customers when any exist (the demo users are still ensured).",
        )

    def run(self, *, customers, contacts_per_customer, seed, if_empty, contracts, **options):
        if customers < 0:
            raise CommandError("--customers must be 0 or more.")
        if not 0 <= contacts_per_customer <= 50:
            raise CommandError("--contacts-per-customer must be between 0 and 50.")
        if contracts < 0:
            raise CommandError("--contracts must be 0 or more.")
        started = time.perf_counter()
        users = demo_users_ensure()
        existing = Customer.objects.count()
        if if_empty and existing:
            self.stdout.write(f"Demo users ready; {existing:,} customers already exist, so no demo data was added.")
            return
        if not customers:
            self.stdout.write("Demo users ready; no customers were asked for.")
            return
        if existing + customers > MAX_INDEX:
            raise CommandError(f"At most {MAX_INDEX:,} demo customers can exist.")
        owner_ids = [users[spec.username].pk for spec in DEMO_USERS if spec.role == Role.SALES_REP]
        data = DemoData(
            seed=seed,
            owner_ids=owner_ids,
            contacts_per_customer=contacts_per_customer,
            now=timezone.now(),
            base=existing,
        )
        admin = users[demo_user(Role.ADMIN).username]
        try:
            counts = self.load(data, customers, admin=admin, seed=seed)
        except IntegrityError as error:
            raise CommandError(
                "A generated customer clashes with an existing one; seed an empty database "
                f"or use --if-empty ({str(error).splitlines()[0]})."
            ) from error
        self.tidy()
        if contracts:
            self.later_apps(users=users, seed=seed, contracts=contracts)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {counts['customers']:,} customers, {counts['contacts']:,} contacts and "
                f"{counts['interactions']:,} timeline entries (seed {seed}) in {elapsed:.1f} s; "
                f"{len(DEMO_USERS)} demo users ready."
            )
        )

    def later_apps(self, *, users, seed, contracts):
        """The rest of the lifecycle (contracts, signatures, orders …) through each app's own
        `demo.demo_step`, which goes through the services."""
        for label, step in demo_steps():
            if label == "customers":
                continue
            with transaction.atomic():
                counts = step(rng=random.Random(seed), users=users, contracts=contracts)
            summary = ", ".join(f"{key}: {value}" for key, value in counts.items() if not isinstance(value, dict))
            self.stdout.write(f"{label}: {summary}")

    @transaction.atomic
    def load(self, data: DemoData, count: int, *, admin, seed: int) -> dict:
        counts = {"customers": 0, "contacts": 0, "interactions": 0}
        with connection.cursor() as cursor, self.progress(count, "Seeding demo customers") as bar:
            for setting in BULK_LOAD_SETTINGS:
                cursor.execute(f"SET LOCAL {setting}")
            for batch in _batches(data.customers(count), BATCH_SIZE):
                customer_ids = _reserve_ids(cursor, Customer, len(batch))
                contact_ids = iter(_reserve_ids(cursor, Contact, sum(len(c.contacts) for c in batch)))
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
                _copy(cursor, Customer, CUSTOMER_COLUMNS, customer_rows)
                _copy(cursor, Contact, CONTACT_COLUMNS, contact_rows)
                _copy(cursor, Interaction, INTERACTION_COLUMNS, interaction_rows)
                counts["customers"] += len(customer_rows)
                counts["contacts"] += len(contact_rows)
                counts["interactions"] += len(interaction_rows)
                bar.update(len(batch))
        audit_record(actor=None, action="demo.seeded", target=admin, extra={**counts, "seed": seed})
        return counts

    def tidy(self):
        """Fresh planner statistics (and a clean trigram index) after a bulk load; skipped
        inside a caller's transaction, where VACUUM may not run."""
        if connection.in_atomic_block:
            return
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Customer, Contact, Interaction))
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {tables}")
