"""Demo contracts with an approval history the assistant can learn from.

Everything goes through the real services, acting as the reps (drafting, submitting),
the sales manager and the finance approver (deciding). The decisions follow a hidden,
noisy rule, so a trained tree has something real to find:

- amounts from 500,000 with payment terms of 60 days or more are usually rejected;
- amounts from 2,000,000 are rejected more often than not;
- customers with two or more rejected contracts, and small customers asking for
  1,000,000 or more, are often rejected;
- everything else is rejected only rarely.
"""

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from contracts.assistant import approval_model_train
from contracts.choices import ContractStatus
from contracts.models import Contract, ContractTemplate
from contracts.selectors import approval_levels
from contracts.services import (
    contract_approve,
    contract_cancel,
    contract_create,
    contract_reject,
    contract_reopen,
    contract_submit,
    contract_update,
)
from contracts.signatures import contract_sign_company, contract_sign_customer, signing_link_send
from crm.core.demo import DEMO_PASSWORD
from crm.core.exceptions import DomainError
from crm.core.roles import Role
from customers.choices import CustomerTier
from customers.models import Customer

TEMPLATES = [
    {
        "name": "Supply agreement (English)",
        "language": "en",
        "required_clauses": ["Scope", "Price and payment", "Term", "Warranty", "Governing law"],
        "body": """SUPPLY AGREEMENT - ${contract_title}

Between ${company_name} ("the Supplier") and ${customer_name}, ${customer_address} ("the Customer").

1. Scope
The Supplier delivers the goods and services described in the annexed quote, in the quantities
and at the places agreed there.

2. Price and payment
The total price is ${amount} ${currency}, taxes included. The Customer pays each invoice within
${payment_terms_days} days of its date.

3. Term
This agreement runs from ${start_date} to ${end_date}.

4. Warranty
The Supplier warrants the goods free of defects for twelve months from delivery and repairs or
replaces defective goods at its own cost.

5. Confidentiality
Each party keeps the other's business information confidential during the term and for three
years after it.

6. Governing law
This agreement is governed by the laws of the People's Republic of China; disputes go to the
courts at the Supplier's seat.

Notices to the Customer are sent to ${customer_email}.
""",
    },
    {
        "name": "Service agreement (English)",
        "language": "en",
        "required_clauses": ["Services", "Service levels", "Fees and payment", "Term", "Liability"],
        "body": """SERVICE AGREEMENT - ${contract_title}

${company_name} ("the Provider") provides services to ${customer_name} ("the Client").

1. Services
The Provider performs the services described in the statement of work, with qualified staff.

2. Service levels
Incidents are answered within four working hours and resolved within two working days.

3. Fees and payment
The fees for the term are ${amount} ${currency}, invoiced quarterly and payable within
${payment_terms_days} days.

4. Term
From ${start_date} until ${end_date}; either party may end it for cause with thirty days' notice.

5. Liability
Each party's liability is limited to the fees paid in the twelve months before the claim.

Contact for the Client: ${customer_email}, ${customer_address}.
""",
    },
    {
        "name": "购销合同（中文）",
        "language": "zh",
        "required_clauses": ["合同标的", "价款与支付", "合同期限", "质量保证", "争议解决"],
        "body": """购销合同 —— ${contract_title}

甲方（买方）：${customer_name}
地址：${customer_address}
乙方（卖方）：${company_name}

第一条 合同标的
乙方按照附件报价单所列的品名、规格、数量向甲方供货。

第二条 价款与支付
合同总金额为 ${amount} ${currency}（含税）。甲方应在收到发票之日起 ${payment_terms_days} 日内付款。

第三条 合同期限
本合同自 ${start_date} 起至 ${end_date} 止。

第四条 质量保证
乙方保证所供货物自交付之日起十二个月内无质量缺陷，否则负责免费维修或更换。

第五条 保密条款
双方对在履行本合同过程中知悉的对方商业秘密负有保密义务。

第六条 争议解决
因本合同引起的争议，双方应协商解决；协商不成的，提交乙方所在地人民法院诉讼解决。

甲方联系邮箱：${customer_email}
""",
    },
    {
        "name": "技术服务合同（中文）",
        "language": "zh",
        "required_clauses": ["服务内容", "服务标准", "服务费用与支付", "合同期限", "责任限制"],
        "body": """技术服务合同 —— ${contract_title}

委托方（甲方）：${customer_name}
地址：${customer_address}
服务方（乙方）：${company_name}

第一条 服务内容
乙方按照工作说明书所列内容，委派具备相应资质的人员为甲方提供技术服务。

第二条 服务标准
乙方在四个工作小时内响应故障报修，并在两个工作日内解决。

第三条 服务费用与支付
本合同期内服务费用共计 ${amount} ${currency}，按季度开具发票，甲方应在收到发票之日起
${payment_terms_days} 日内付款。

第四条 合同期限
本合同自 ${start_date} 起至 ${end_date} 止；任何一方有正当理由的，可提前三十日书面通知解除本合同。

第五条 责任限制
任何一方的赔偿责任以索赔前十二个月内甲方已支付的服务费用为限。

甲方联系方式：${customer_email}，${customer_address}
""",
    },
]

SUBJECTS = {
    "en": [
        "Annual supply of hydraulic pumps",
        "Maintenance service for packaging lines",
        "Cloud hosting and technical support",
        "Warehouse automation retrofit",
        "Office furniture framework agreement",
        "Spare parts supply for CNC machines",
        "Logistics services for the eastern region",
        "Software licence and support renewal",
        "Solar panel installation",
        "Training programme for service engineers",
    ],
    "zh": [
        "年度液压泵供货合同",
        "包装生产线维护服务合同",
        "云主机托管与技术支持合同",
        "仓储自动化改造项目合同",
        "办公家具框架采购协议",
        "数控机床备件供应合同",
        "华东区物流服务合同",
        "软件许可与维护续约合同",
        "光伏电站安装工程合同",
        "售后工程师培训服务合同",
    ],
}

REJECTION_COMMENTS = [
    "Payment terms too long for this amount; ask for a deposit.",
    "Amount exceeds the customer's credit limit.",
    "Too much exposure to this customer after earlier problems.",
    "Margin too thin at these terms.",
    "付款周期过长，请与客户重新协商。",
    "合同金额超出客户信用额度。",
]
APPROVAL_COMMENTS = ["", "", "", "OK.", "Fine at these terms.", "同意。"]

PAYMENT_TERMS = [15, 30, 30, 30, 45, 60, 60, 90, 120]
DURATIONS = [90, 180, 365, 365, 365, 730, 1095]


def contract_templates_ensure() -> list[ContractTemplate]:
    """The demo templates, created only when there are no templates at all."""
    if not ContractTemplate.objects.exists():
        for spec in TEMPLATES:
            template = ContractTemplate(name=spec["name"], body=spec["body"], required_clauses=spec["required_clauses"])
            template.full_clean()
            template.save()
    return list(ContractTemplate.objects.filter(is_active=True))


def _language(template) -> str:
    return "zh" if any("\u4e00" <= char <= "\u9fff" for char in template.name) else "en"


def rejection_chance(*, amount, payment_terms_days, earlier_rejections, tier) -> float:
    """The hidden rule the demo approvers follow."""
    chance = 0.04
    if amount >= 500_000 and payment_terms_days >= 60:
        chance = 0.92
    elif amount >= 2_000_000:
        chance = 0.6
    if earlier_rejections >= 2:
        chance = max(chance, 0.8)
    if tier == CustomerTier.SMALL and amount >= 1_000_000:
        chance = max(chance, 0.8)
    return chance


@transaction.atomic
def demo_contracts_seed(*, rng, customers, reps, manager, finance, count=300, today=None) -> dict:
    """Draft `count` contracts for customers owned by `reps` and take most through approval.

    About 8% stay drafts, 8% wait for a decision (some at the finance level), the rest
    are decided; some rejected ones are reopened, a few are revised and approved on a
    second round, a few are cancelled. Returns counts: "contracts", "decided" (with
    "approved_decisions" and "rejected_decisions", the outcome of each contract's latest
    decided round), "by_status" and "templates_created".
    """
    today = today or timezone.localdate()
    templates_before = ContractTemplate.objects.count()
    templates = contract_templates_ensure()
    by_rep = {rep.pk: rep for rep in reps}
    eligible = [customer for customer in customers if customer.owner_id in by_rep]
    if not eligible:
        raise ValueError("demo_contracts_seed needs customers owned by the given reps.")
    deciders = {Role.SALES_MANAGER.value: manager, Role.FINANCE_APPROVER.value: finance}
    # Some customers do much more business than others.
    weights = [rng.choice([1, 1, 1, 2, 3, 5]) for _customer in eligible]
    rejections = defaultdict(int)
    statuses, outcomes = Counter(), Counter()

    for _index in range(count):
        customer = rng.choices(eligible, weights)[0]
        rep = by_rep[customer.owner_id]
        template = rng.choice(templates) if templates else None
        language = _language(template) if template else rng.choice(["en", "zh"])
        start = today + datetime.timedelta(days=rng.randint(-700, 60))
        amount = Decimal(round(10 ** rng.uniform(4.3, 6.5), -2)).quantize(Decimal("0.01"))
        terms = {
            "title": f"{rng.choice(SUBJECTS[language])} {start.year}",
            "amount": amount,
            "start_date": start,
            "end_date": start + datetime.timedelta(days=rng.choice(DURATIONS)),
            "payment_terms_days": rng.choice(PAYMENT_TERMS),
        }
        body = "" if template else f"{terms['title']}\n\n{customer.name}"
        contract = contract_create(
            actor=rep,
            customer_id=customer.pk,
            template_id=template.pk if template else None,
            body=body,
            **terms,
        )
        fate = rng.random()
        if fate < 0.08:
            statuses[contract.status] += 1
            continue
        contract = contract_submit(actor=rep, contract_id=contract.pk)
        levels = approval_levels(contract.amount)
        if fate < 0.16 or any(role not in deciders for _level, role in levels):
            # Left waiting: big ones sometimes already passed the manager.
            if len(levels) > 1 and rng.random() < 0.5:
                contract = contract_approve(actor=deciders[levels[0][1]], contract_id=contract.pk)
            statuses[contract.status] += 1
            continue
        chance = rejection_chance(
            amount=float(amount),
            payment_terms_days=terms["payment_terms_days"],
            earlier_rejections=rejections[customer.pk],
            tier=customer.tier,
        )
        reject_at = rng.choice(levels) if rng.random() < chance else None
        for level in levels:
            decider = deciders[level[1]]
            if level == reject_at:
                contract = contract_reject(
                    actor=decider, contract_id=contract.pk, comment=rng.choice(REJECTION_COMMENTS)
                )
                break
            contract = contract_approve(actor=decider, contract_id=contract.pk, comment=rng.choice(APPROVAL_COMMENTS))
        if reject_at is not None:
            rejections[customer.pk] += 1
            contract = _after_rejection(contract, rep=rep, deciders=deciders, rng=rng)
        outcomes["approved" if contract.status == ContractStatus.APPROVED else "rejected"] += 1
        statuses[contract.status] += 1

    return {
        "contracts": count,
        "decided": outcomes.total(),
        "approved_decisions": outcomes["approved"],
        "rejected_decisions": outcomes["rejected"],
        "by_status": {str(status): number for status, number in sorted(statuses.items())},
        "templates_created": ContractTemplate.objects.count() - templates_before,
    }


def _after_rejection(contract, *, rep, deciders, rng):
    """Most rejected contracts stay rejected; some are reopened, revised or cancelled."""
    roll = rng.random()
    if roll < 0.7:
        return contract
    if roll < 0.8:
        return contract_cancel(actor=rep, contract_id=contract.pk, reason="Customer withdrew.")
    contract = contract_reopen(actor=rep, contract_id=contract.pk)
    if roll < 0.9:
        return contract
    # Revised to shorter terms and a smaller amount, then approved on the second round.
    contract = contract_update(
        actor=rep,
        contract_id=contract.pk,
        amount=(contract.amount * Decimal("0.6")).quantize(Decimal("0.01")),
        payment_terms_days=30,
    )
    contract = contract_submit(actor=rep, contract_id=contract.pk)
    for _level, role in approval_levels(contract.amount):
        contract = contract_approve(actor=deciders[role], contract_id=contract.pk, comment="Revised terms OK.")
    return contract


def demo_step(*, rng, users, contracts=300, customer_limit=80, signed=20) -> dict:
    """seed_demo's contracts part: decided history for the assistant, contracts waiting in the
    inbox, some signed by both parties (so orders can be placed), and a trained model."""
    reps = [user for user in users.values() if user.groups.filter(name=Role.SALES_REP).exists()]
    manager = next(user for user in users.values() if user.groups.filter(name=Role.SALES_MANAGER).exists())
    finance = next(user for user in users.values() if user.groups.filter(name=Role.FINANCE_APPROVER).exists())
    signatory = next(user for user in users.values() if user.groups.filter(name=Role.SIGNATORY).exists())
    customers = list(Customer.objects.filter(owner__in=reps).order_by("id")[:customer_limit])
    counts = demo_contracts_seed(
        rng=rng, customers=customers, reps=reps, manager=manager, finance=finance, count=contracts
    )
    today = timezone.localdate()
    approved = list(Contract.objects.filter(status=ContractStatus.APPROVED, end_date__gt=today).order_by("id")[:signed])
    for contract in approved:
        contract_sign_company(actor=signatory, contract_id=contract.pk, password=DEMO_PASSWORD)
        contact = contract.customer.contacts.order_by("-is_primary", "id").first()
        email = contract.customer.email or (contact.email if contact else "") or "buyer@example.com"
        # Invented addresses: the link is made but not mailed.
        _link, url = signing_link_send(actor=contract.owner, contract_id=contract.pk, email=email, send_email=False)
        contract_sign_customer(
            token=url.rstrip("/").rsplit("/", 1)[-1],
            full_name=contact.name if contact else contract.customer.name,
            accepted=True,
        )
    counts["signed"] = len(approved)
    try:
        model = approval_model_train()
        counts["approval_model"] = f"v{model.version}, held-out accuracy {model.accuracy:.0%}"
    except DomainError as error:
        counts["approval_model"] = error.message
    return counts
