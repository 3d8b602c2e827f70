"""Service modules export services only, and every public service is atomic on its own.

Every other test runs inside a transaction, which hides a service that locks or writes in
autocommit mode (`select_for_update cannot be used outside of a transaction`, or half a
change committed). Here:

- every public function of a service module (each app's `services`, and
  `contracts.signatures`, which holds the signing services) is a service: named
  `<entity>_<verb>`, decorated with `transaction.atomic`, and called below in SERVICE_CALLS
  from a test that runs outside any transaction (`transaction=True`), asserting that it
  committed its audit event. Reads belong in the app's `selectors`, helpers are private
  (`_name`) or live in their own module (`contracts.steps`);
- `contracts.signing.keys` holds the key services and one helper marked
  `in_callers_transaction` (it locks for another service), which refuses to run outside a
  transaction;
- a public function outside the service modules that locks or writes (a step of
  `contracts.steps`, the contract lock of `contracts.selectors`) is marked
  `in_callers_transaction` too.

A new public function of a service module fails
`test_every_public_function_of_the_service_modules_is_an_atomic_service` until it is a
service with its call in SERVICE_CALLS.
"""

import datetime
import importlib
import inspect
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Max
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from contracts.choices import ContractStatus, SigningKeyStatus
from contracts.models import ApprovalRule, Contract, ContractTemplate, SigningKey
from contracts.tests.factories import SMALL, default_approval_rules
from crm.core.models import AuditEvent
from crm.core.roles import Role
from crm.core.tests.factories import PASSWORD, UserFactory
from crm.core.workflow import SYSTEM
from customers.models import LostReason, StageProbability
from customers.tests.factories import CustomerFactory
from orders.choices import OrderStatus
from orders.models import QuoteTermsTemplate
from orders.tests.factories import IN_PERIOD, active_contract, line
from service.models import BusinessCalendar, Holiday

# The signing services, and the service desk's mail services, besides every app's `services`.
OTHER_SERVICE_MODULES = ["contracts.signatures", "service.inbound", "service.public", "service.satisfaction"]
# Modules with services and helpers that work inside the caller's transaction.
OTHER_WRITER_MODULES = ["contracts.signing.keys", "service.mail", "service.attachments"]
# The notification rules keep their services beside the reads and registrations they need.
NOTIFICATION_MODULES = ["crm.core.notifications", "contracts.notifications", "orders.notifications"]
OTHER_WRITER_MODULES += NOTIFICATION_MODULES
NOTIFICATION_READS = {
    "crm.core.notifications.waiting_counter_register": "keeps a counter function in memory",
    "crm.core.notifications.navigation_counts": "counts what the registered counters select",
    "crm.core.notifications.user_language": "reads the user's preference",
    "crm.core.notifications.notification_list": "reads the user's notifications",
    "crm.core.notifications.notification_unread": "selects the user's unread notifications",
    "contracts.notifications.contract_deciders": "reads who may decide the waiting level",
    "contracts.notifications.renewal_mark_due": "compares dates",
    "contracts.notifications.subscribe": "registers the rules in memory",
    "orders.notifications.order_approvers": "reads who may approve the order",
    "orders.notifications.subscribe": "registers the rules in memory",
    "service.mail.mail_domain": "reads a setting",
    "service.mail.customer_address": "reads the ticket's addresses",
    "service.mail.customer_language": "reads the language of the contact with that address",
    "orders.notifications.quote_approvers": "reads who may approve the quote's discount",
}
# Services that write no audit event, with the reason (their call checks what they committed).
NOT_AUDITED = {
    "crm.core.notifications.notification_send": "a notification copies news the step already audited",
    "crm.core.notifications.notification_mark_read": "the reader's own bookkeeping",
    "crm.core.notifications.notifications_mark_all_read": "the reader's own bookkeeping",
    "service.services.ticket_sla_check": "a ticket with no clock near its deadline: nothing to warn of",
    "customers.services.activity_reminders_send": "a reminder copies news for its reader, like a notification",
    "crm.dashboard.services.dashboard_refresh": "derived summary figures, recomputed from audited records",
    "crm.webhooks.services.webhook_event_dispatch": "a delivery copies news the step already audited",
    "marketing.services.campaign_batch_hand": "hands mail to the queue; the campaign's start and end are audited",
    "marketing.services.recipient_mail_result": "a delivery outcome, kept on the recipient; the end is audited",
    "marketing.services.recipient_click": "a click count on the recipient; it changes no business record",
    "marketing.services.returned_mail_receive": "a record of mail read; the bounce or reply it leads to is audited",
    "crm.core.imports.services.import_run_configure": "the options of a run not yet committed; no record changes",
    "crm.core.imports.services.import_run_check": "a dry run writes nothing; its result stays on the run",
    "crm.core.imports.services.import_run_start": "marks the run busy; the commit that follows is audited",
    "crm.api.services.token_used": "the token's last-used time: bookkeeping; the calls it makes audit themselves",
    "crm.api.services.idempotent_call": "keeps the answer of a request; the work it wraps audits itself",
    "crm.api.services.idempotency_keys_purge": "deletes answers no retry may get any more; no record changes",
}
# Internal modules whose public functions that lock or write must be `in_callers_transaction`.
HELPER_MODULES = ["contracts.steps", "service.customer_links"]
#: `<entity>_<verb>`: lowercase words joined by underscores, at least two.
SERVICE_NAME = re.compile(r"[a-z]+(_[a-z]+)+")
LOCK_OR_WRITE_MARKERS = [".save(", "bulk_create", "get_or_create", "select_for_update", "audit_record("]
LOCK_OR_WRITE_MARKERS += ["number_allocate(", ".objects.create(", ".delete()"]


def _app_modules(submodule):
    return [
        f"{config.name}.{submodule}"
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, submodule)
    ]


def service_modules():
    return [importlib.import_module(name) for name in [*_app_modules("services"), *OTHER_SERVICE_MODULES]]


def writer_modules():
    return [*service_modules(), *(importlib.import_module(name) for name in OTHER_WRITER_MODULES)]


def helper_modules():
    names = [*_app_modules("selectors"), *HELPER_MODULES]
    return [importlib.import_module(name) for name in names]


def _public(modules):
    """{"module.function": function} for every public function defined in these modules."""
    return {
        f"{module.__name__}.{name}": value
        for module in modules
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
    }


def public_functions():
    """{"module.function": function} for every public function defined in a writer module."""
    return _public(writer_modules())


def is_atomic(function) -> bool:
    """Decorated with `transaction.atomic`: the wrapper closes over an `Atomic`."""
    return any(isinstance(cell.cell_contents, transaction.Atomic) for cell in function.__closure__ or ())


def needs_callers_transaction(function) -> bool:
    return getattr(function, "in_callers_transaction", False)


# --- the services, each called once outside any transaction, in an order that builds what
# the next one needs. `w` collects the objects; setup code may call other services too.


def _people(w):
    default_approval_rules()  # a transactional test starts from a flushed database
    w.rep = UserFactory(username="atomic_rep", role=Role.SALES_REP)
    w.other_rep = UserFactory(username="atomic_other_rep", role=Role.SALES_REP)
    w.manager = UserFactory(username="atomic_manager", role=Role.SALES_MANAGER)
    w.signatory = UserFactory(username="atomic_signatory", role=Role.SIGNATORY)
    w.admin = UserFactory(username="atomic_admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


def _terms(**changes):
    terms = {
        "title": "Atomic supply",
        "body": "1. Scope\n2. Price\n",
        "amount": SMALL,
        "currency": "CNY",
        "start_date": datetime.date(2026, 1, 1),
        "end_date": datetime.date(2026, 12, 31),
        "payment_terms_days": 30,
    }
    return {**terms, **changes}


def _submitted(w, title):
    from contracts import services

    contract = services.contract_create(actor=w.rep, customer_id=w.customer.pk, **_terms(title=title))
    return services.contract_submit(actor=w.rep, contract_id=contract.pk)


def _token(url):
    return url.rstrip("/").rsplit("/", 1)[-1]


def _loose_order(w):
    """A draft order outside any contract (it needs a manager's approval)."""
    from orders import services

    return services.order_create(actor=w.rep, customer_id=w.customer.pk, lines=[line(w.product)], order_date=IN_PERIOD)


def _quote(w, discount="0", **values):
    """A draft quote of `rep`'s for the quoting deal (a discount above 10 % needs approval)."""
    lines = [{"product": w.product, "quantity": Decimal(1), "discount_percent": Decimal(discount)}]
    return _call("orders.services.quote_create", actor=w.rep, opportunity_id=w.quote_deal.pk, lines=lines, **values)


def _quote_sent(w):
    return _call("orders.services.quote_send", actor=w.rep, quote_id=_quote(w).pk)[0]


def _quote_deal(w):
    from customers.services import opportunity_create

    return opportunity_create(
        actor=w.rep,
        customer=w.customer,
        title="Atomic quoting deal",
        amount=Decimal("1000.00"),
        currency="CNY",
        expected_close_date=datetime.date(2027, 1, 1),
    )


def _stage_probability(stage, probability):
    """The stage's row (the migration seeds it, unless a flush removed it) with a new value."""
    row = StageProbability.objects.filter(stage=stage).first() or StageProbability(stage=stage)
    row.probability = probability
    return row


def _call(path, **kwargs):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)


SERVICE_CALLS = {
    "customers.services.customer_create": lambda w: setattr(
        w,
        "customer",
        _call(
            "customers.services.customer_create", actor=w.rep, name="Atomic Trading Ltd", email="buy@atomic.example.com"
        ),
    ),
    "customers.services.customer_update": lambda w: _call(
        "customers.services.customer_update", actor=w.rep, customer_id=w.customer.pk, notes="Met at the fair"
    ),
    "customers.services.customer_status_follow": lambda w: _call(
        "customers.services.customer_status_follow", customer_id=w.customer.pk, cause="contract.drafted"
    ),
    "customers.services.contact_create": lambda w: setattr(
        w,
        "contact",
        _call("customers.services.contact_create", actor=w.rep, customer_id=w.customer.pk, name="Li Na"),
    ),
    "customers.services.contact_update": lambda w: _call(
        "customers.services.contact_update", actor=w.rep, contact_id=w.contact.pk, title="Buyer", is_primary=True
    ),
    "customers.services.contact_delete": lambda w: _call(
        "customers.services.contact_delete", actor=w.rep, contact_id=w.contact.pk
    ),
    "customers.services.interaction_create": lambda w: setattr(
        w,
        "interaction",
        _call(
            "customers.services.interaction_create",
            actor=w.rep,
            customer_id=w.customer.pk,
            kind="call",
            subject="Intro call",
        ),
    ),
    "customers.services.interaction_delete": lambda w: _call(
        "customers.services.interaction_delete", actor=w.rep, interaction_id=w.interaction.pk
    ),
    "customers.services.customer_reassign": lambda w: _call(
        "customers.services.customer_reassign",
        actor=w.manager,
        customer_ids=[setattr(w, "spare", CustomerFactory(owner=w.rep)) or w.spare.pk],
        new_owner=w.other_rep,
    ),
    "customers.services.customer_delete": lambda w: _call(
        "customers.services.customer_delete", actor=w.other_rep, customer_id=w.spare.pk
    ),
    # The pipeline, on the customer that stays.
    "customers.services.opportunity_create": lambda w: setattr(
        w,
        "opportunity",
        _call(
            "customers.services.opportunity_create",
            actor=w.rep,
            customer=w.customer,
            title="Atomic robots",
            amount=Decimal("50000"),
            currency="CNY",
            expected_close_date=datetime.date(2027, 1, 31),
        ),
    ),
    "customers.services.opportunity_update": lambda w: _call(
        "customers.services.opportunity_update", actor=w.rep, opportunity_id=w.opportunity.pk, next_step="Demo"
    ),
    "customers.services.opportunity_advance": lambda w: _call(
        "customers.services.opportunity_advance", actor=w.rep, opportunity_id=w.opportunity.pk, stage="proposal"
    ),
    "customers.services.opportunity_stage_move": lambda w: _call(
        "customers.services.opportunity_stage_move", actor=SYSTEM, opportunity_id=w.opportunity.pk, stage="negotiation"
    ),
    "customers.services.lost_reason_save": lambda w: setattr(
        w,
        "lost_reason",
        _call("customers.services.lost_reason_save", actor=w.admin, reason=LostReason(name="Atomic: too dear")),
    ),
    "customers.services.stage_probability_save": lambda w: _call(
        "customers.services.stage_probability_save",
        actor=w.admin,
        row=_stage_probability("negotiation", 70),
    ),
    "customers.services.opportunity_lose": lambda w: _call(
        "customers.services.opportunity_lose",
        actor=w.rep,
        opportunity_id=w.opportunity.pk,
        lost_reason=w.lost_reason,
    ),
    "customers.services.opportunity_reopen": lambda w: _call(
        "customers.services.opportunity_reopen", actor=w.rep, opportunity_id=w.opportunity.pk
    ),
    "customers.services.opportunity_win": lambda w: _call(
        "customers.services.opportunity_win", actor=w.rep, opportunity_id=w.opportunity.pk
    ),
    "customers.services.opportunity_assign": lambda w: _call(
        "customers.services.opportunity_assign",
        actor=w.manager,
        opportunity_ids=[w.opportunity.pk],
        new_owner=w.other_rep,
    ),
    "customers.services.activity_create": lambda w: setattr(
        w,
        "activity",
        _call(
            "customers.services.activity_create",
            actor=w.rep,
            customer_id=w.customer.pk,
            kind="call",
            subject="Atomic follow-up",
            due_at=timezone.now() + datetime.timedelta(minutes=10),
        ),
    ),
    "customers.services.activity_reminders_send": lambda w: _call("customers.services.activity_reminders_send"),
    "customers.services.activity_reschedule": lambda w: _call(
        "customers.services.activity_reschedule",
        actor=w.rep,
        activity_id=w.activity.pk,
        due_at=timezone.now() + datetime.timedelta(days=1),
    ),
    "customers.services.activity_complete": lambda w: _call(
        "customers.services.activity_complete", actor=w.rep, activity_id=w.activity.pk, outcome="Agreed a demo"
    ),
    "customers.services.activity_cancel": lambda w: _call(
        "customers.services.activity_cancel",
        actor=w.rep,
        activity_id=_call(
            "customers.services.activity_create",
            actor=w.rep,
            customer_id=w.customer.pk,
            kind="todo",
            subject="Atomic to-do",
            due_at=timezone.now() + datetime.timedelta(days=2),
        ).pk,
    ),
    "crm.core.services.reference_row_save": lambda w: _call(
        "crm.core.services.reference_row_save",
        actor=w.admin,
        instance=ContractTemplate(name="Atomic reference", body="1. Scope"),
        fields=["name", "body"],
        refusal="refused",
    ),
    "contracts.services.contract_template_save": lambda w: _call(
        "contracts.services.contract_template_save",
        actor=w.admin,
        template=ContractTemplate(name="Atomic template", body="1. Scope"),
    ),
    "contracts.services.approval_rule_save": lambda w: _call(
        "contracts.services.approval_rule_save",
        actor=w.admin,
        rule=ApprovalRule(level=3, min_amount=Decimal("1000000000"), role=Role.FINANCE_APPROVER, is_active=False),
    ),
    "contracts.services.contract_create": lambda w: setattr(
        w, "draft", _call("contracts.services.contract_create", actor=w.rep, customer_id=w.customer.pk, **_terms())
    ),
    "contracts.services.contract_update": lambda w: _call(
        "contracts.services.contract_update", actor=w.rep, contract_id=w.draft.pk, title="Atomic supply, revised"
    ),
    "contracts.services.contract_submit": lambda w: _call(
        "contracts.services.contract_submit", actor=w.rep, contract_id=w.draft.pk
    ),
    "contracts.services.contract_reject": lambda w: _call(
        "contracts.services.contract_reject", actor=w.manager, contract_id=w.draft.pk, comment="Price too low"
    ),
    "contracts.services.contract_reopen": lambda w: _call(
        "contracts.services.contract_reopen", actor=w.rep, contract_id=w.draft.pk
    ),
    "contracts.services.contract_cancel": lambda w: _call(
        "contracts.services.contract_cancel", actor=w.rep, contract_id=w.draft.pk, reason="Not needed"
    ),
    "contracts.services.contract_approve": lambda w: setattr(
        w,
        "deal",
        _call("contracts.services.contract_approve", actor=w.manager, contract_id=_submitted(w, "Atomic deal").pk),
    ),
    "contracts.signing.keys.signing_key_create": lambda w: _call(
        "contracts.signing.keys.signing_key_create", actor=w.admin
    ),
    "contracts.signing.keys.signing_key_rotate": lambda w: _call(
        "contracts.signing.keys.signing_key_rotate", actor=w.admin
    ),
    "contracts.signing.keys.signing_key_revoke": lambda w: _call(
        "contracts.signing.keys.signing_key_revoke",
        actor=w.admin,
        key_id=SigningKey.objects.filter(status=SigningKeyStatus.RETIRED).first().key_id,
        reason="Rotated in a drill",
    ),
    "contracts.signatures.signing_link_send": lambda w: setattr(
        w, "link", _call("contracts.signatures.signing_link_send", actor=w.rep, contract_id=w.deal.pk)[0]
    ),
    "contracts.signatures.signing_link_mail_record": lambda w: _call(
        "contracts.signatures.signing_link_mail_record", link_id=w.link.pk, error="SMTPConnectError: refused"
    ),
    "contracts.signatures.signing_link_revoke": lambda w: _call(
        "contracts.signatures.signing_link_revoke", actor=w.rep, contract_id=w.deal.pk, link_id=w.link.pk
    ),
    "contracts.signatures.contract_sign_company": lambda w: _call(
        "contracts.signatures.contract_sign_company", actor=w.signatory, contract_id=w.deal.pk, password=PASSWORD
    ),
    "contracts.signatures.contract_sign_customer": lambda w: _call(
        "contracts.signatures.contract_sign_customer",
        token=_token(_call("contracts.signatures.signing_link_send", actor=w.rep, contract_id=w.deal.pk)[1]),
        full_name="Zhao Lei",
        accepted=True,
    ),
    "orders.services.product_create": lambda w: setattr(
        w,
        "product",
        _call(
            "orders.services.product_create",
            actor=w.manager,
            sku="ATOMIC-1",
            name="Pump",
            unit_price=Decimal("100.00"),
            currency="CNY",
        ),
    ),
    "orders.services.product_update": lambda w: _call(
        "orders.services.product_update", actor=w.manager, product_id=w.product.pk, name="Pump, large"
    ),
    "orders.services.order_create": lambda w: setattr(
        w,
        "order",
        _call(
            "orders.services.order_create",
            actor=w.rep,
            customer_id=w.customer.pk,
            contract_id=w.deal.pk,
            lines=[line(w.product)],
            order_date=IN_PERIOD,
        ),
    ),
    "orders.services.order_update": lambda w: _call(
        "orders.services.order_update",
        actor=w.rep,
        order_id=w.order.pk,
        contract_id=w.deal.pk,
        lines=[line(w.product, 2)],
        notes="Two, please",
    ),
    "orders.services.order_submit": lambda w: _call("orders.services.order_submit", actor=w.rep, order_id=w.order.pk),
    "orders.services.order_start_fulfilment": lambda w: _call(
        "orders.services.order_start_fulfilment", actor=w.manager, order_id=w.order.pk
    ),
    "orders.services.order_deliver": lambda w: _call(
        "orders.services.order_deliver", actor=w.manager, order_id=w.order.pk
    ),
    "orders.services.order_close": lambda w: _call("orders.services.order_close", actor=w.manager, order_id=w.order.pk),
    "orders.services.order_approve": lambda w: _call(
        "orders.services.order_approve",
        actor=w.manager,
        order_id=_call("orders.services.order_submit", actor=w.rep, order_id=_loose_order(w).pk).pk,
    ),
    "orders.services.order_reject": lambda w: setattr(
        w,
        "sent_back",
        _call(
            "orders.services.order_reject",
            actor=w.manager,
            order_id=_call("orders.services.order_submit", actor=w.rep, order_id=_loose_order(w).pk).pk,
            comment="Wrong pump",
        ),
    ),
    "orders.services.order_cancel": lambda w: _call(
        "orders.services.order_cancel", actor=w.rep, order_id=w.sent_back.pk, reason="Customer changed their mind"
    ),
    "orders.services.quote_discount_limit_set": lambda w: _call(
        "orders.services.quote_discount_limit_set", actor=w.admin, line_percent=10, total_percent=10
    ),
    "orders.services.quote_terms_template_save": lambda w: _call(
        "orders.services.quote_terms_template_save",
        actor=w.admin,
        template=QuoteTermsTemplate(name="Atomic terms", language="en", body="Net 30 days.", is_default=True),
    ),
    "orders.services.quote_create": lambda w: (
        setattr(w, "quote_deal", _quote_deal(w)),
        setattr(w, "quote", _quote(w)),
    ),
    "orders.services.quote_update": lambda w: _call(
        "orders.services.quote_update",
        actor=w.rep,
        quote_id=w.quote.pk,
        lines=[{"product": w.product, "quantity": Decimal(2), "discount_percent": Decimal(0)}],
        title="Atomic quote",
        currency="CNY",
        language="en",
        valid_until=None,
        terms="Net 30 days.",
    ),
    "orders.services.quote_submit": lambda w: setattr(
        w, "pending", _call("orders.services.quote_submit", actor=w.rep, quote_id=_quote(w, "20").pk)
    ),
    "orders.services.quote_approve": lambda w: _call(
        "orders.services.quote_approve", actor=w.manager, quote_id=w.pending.pk
    ),
    "orders.services.quote_reject": lambda w: _call(
        "orders.services.quote_reject",
        actor=w.manager,
        quote_id=_call("orders.services.quote_submit", actor=w.rep, quote_id=_quote(w, "20").pk).pk,
        comment="Too deep",
    ),
    "orders.services.quote_send": lambda w: setattr(
        w, "sent", _call("orders.services.quote_send", actor=w.rep, quote_id=w.quote.pk)[0]
    ),
    "orders.services.quote_link_revoke": lambda w: _call(
        "orders.services.quote_link_revoke",
        actor=w.rep,
        quote_id=(revoked := _quote_sent(w)).pk,
        link_id=revoked.links.get().pk,
    ),
    "orders.services.quote_accept": lambda w: setattr(
        w,
        "accepted",
        _call("orders.services.quote_accept", link_id=w.sent.links.get().pk, full_name="Zhao Lei", accepted=True),
    ),
    "orders.services.quote_decline": lambda w: setattr(
        w,
        "declined",
        _call("orders.services.quote_decline", link_id=_quote_sent(w).links.get().pk, reason="Too expensive"),
    ),
    "orders.services.quote_revise": lambda w: _call(
        "orders.services.quote_revise", actor=w.rep, quote_id=w.declined.pk
    ),
    "orders.services.quote_expire": lambda w: _call(
        "orders.services.quote_expire",
        actor=SYSTEM,
        quote_id=_quote(w, valid_until=timezone.localdate() - datetime.timedelta(days=1)).pk,
    ),
    "orders.services.quote_cancel": lambda w: _call(
        "orders.services.quote_cancel", actor=w.rep, quote_id=_quote(w).pk, reason="Duplicate"
    ),
    "orders.services.quote_opportunity_win": lambda w: _call(
        "orders.services.quote_opportunity_win", contract_id=w.accepted.contract_id
    ),
    "contracts.services.contract_complete": lambda w: _call(
        "contracts.services.contract_complete", actor=w.manager, contract_id=w.deal.pk
    ),
    "contracts.services.contract_terminate": lambda w: _call(
        "contracts.services.contract_terminate",
        actor=w.manager,
        contract_id=active_contract(w.rep, w.customer, "1000.00", manager=w.manager, signatory=w.signatory).pk,
        reason="Breach",
    ),
    "contracts.services.contract_expire": lambda w: _call(
        "contracts.services.contract_expire",
        contract_id=active_contract(w.rep, w.customer, "1000.00", manager=w.manager, signatory=w.signatory).pk,
        today=datetime.date(2027, 1, 1),
    ),
    "contracts.services.contract_ordered_amount_set": lambda w: _call(
        "contracts.services.contract_ordered_amount_set",
        actor=w.manager,
        contract=Contract.objects.get(
            pk=active_contract(w.rep, w.customer, "1000.00", manager=w.manager, signatory=w.signatory).pk
        ),
        amount=Decimal("100.00"),
        order_number="SO-ATOMIC",
    ),
    "crm.core.services.login_lockout_record": lambda w: _call(
        "crm.core.services.login_lockout_record", username=w.rep.username, ip_address="203.0.113.9"
    ),
    "crm.core.services.login_lockout_clear": lambda w: _call(
        "crm.core.services.login_lockout_clear",
        actor=w.admin,
        attempts=AccessAttempt.objects.filter(
            pk=AccessAttempt.objects.create(
                username=w.rep.username, ip_address="203.0.113.9", user_agent="", failures_since_start=5
            ).pk
        ),
    ),
    "crm.core.services.audit_checkpoint_write": lambda w: _call(
        "crm.core.services.audit_checkpoint_write", actor=w.admin
    ),
    "crm.core.services.user_language_set": lambda w: _call(
        "crm.core.services.user_language_set", actor=w.rep, language="zh-hans"
    ),
    "contracts.notifications.contract_renewal_reminders_send": lambda w: _reminded(w),
    "crm.core.notifications.notification_send": lambda w: setattr(
        w,
        "notice",
        _call(
            "crm.core.notifications.notification_send",
            recipients=[w.rep],
            sentence="Contract %(number)s is active: both parties signed.",
            params={"number": "CT-X"},
        )[0],
    ),
    "crm.core.notifications.notification_mark_read": lambda w: _committed(
        _call("crm.core.notifications.notification_mark_read", actor=w.rep, notification_id=w.notice.pk), "read_at"
    ),
    "crm.core.notifications.notifications_mark_all_read": lambda w: _call(
        "crm.core.notifications.notifications_mark_all_read", actor=w.rep
    ),
    # The service desk: a ticket through its whole life, then a second one claimed.
    "service.services.ticket_create": lambda w: _ticket_opened(w),
    "service.services.ticket_start": lambda w: _call(
        "service.services.ticket_start", actor=w.agent, ticket_id=w.ticket.pk
    ),
    "service.services.ticket_reply_add": lambda w: _call(
        "service.services.ticket_reply_add", actor=w.agent, ticket=w.ticket, body="On it", public=True
    ),
    "service.services.ticket_update": lambda w: _call(
        "service.services.ticket_update", actor=w.agent, ticket_id=w.ticket.pk, priority="high"
    ),
    "service.services.ticket_wait": lambda w: _call(
        "service.services.ticket_wait", actor=w.agent, ticket_id=w.ticket.pk
    ),
    "service.services.ticket_customer_message_add": lambda w: _call(
        "service.services.ticket_customer_message_add", ticket=w.ticket, body="Here it is", author_email="a@example.com"
    ),
    "service.services.ticket_sla_check": lambda w: _call("service.services.ticket_sla_check", ticket_id=w.ticket.pk),
    "service.services.ticket_resolve": lambda w: _call(
        "service.services.ticket_resolve", actor=w.agent, ticket_id=w.ticket.pk, comment="Fixed"
    ),
    "service.services.ticket_close": lambda w: _call(
        "service.services.ticket_close", actor=w.agent, ticket_id=w.ticket.pk
    ),
    "service.services.ticket_reopen": lambda w: _call(
        "service.services.ticket_reopen", actor=w.agent, ticket_id=w.ticket.pk, reason="Broke again"
    ),
    "service.services.ticket_assign": lambda w: _call(
        "service.services.ticket_assign", actor=w.service_manager, ticket_id=w.ticket.pk, assignee=w.service_manager
    ),
    "service.services.agent_duty_set": lambda w: _call(
        "service.services.agent_duty_set", actor=w.service_manager, agent=w.agent, on_duty=False
    ),
    "service.services.ticket_claim": lambda w: _call(
        "service.services.ticket_claim", actor=w.agent, ticket_id=_ticket_opened(w, keep=False).pk
    ),
    "service.services.calendar_day_delete": lambda w: _call(
        "service.services.calendar_day_delete",
        actor=w.admin,
        day=Holiday.objects.create(
            calendar=BusinessCalendar.objects.create(name="Atomic calendar"), date=datetime.date(2026, 12, 25), name="X"
        ),
    ),
    # The service desk's mail: a customer with a contact, and an agent on duty.
    "service.inbound.inbound_mail_receive": lambda w: _desk_mail(w),
    "service.inbound.inbound_mail_from_form": lambda w: setattr(
        w,
        "form_mail",
        _call(
            "service.inbound.inbound_mail_from_form",
            from_email="new@elsewhere.example.org",
            from_name="New",
            subject="Prices?",
            body="Your prices, please.",
        ),
    ),
    "service.inbound.inbound_mail_assign": lambda w: _call(
        "service.inbound.inbound_mail_assign",
        actor=w.mail_agent,
        inbound_id=w.unsorted[0].pk,
        ticket_number=w.mail_ticket.number,
    ),
    "service.inbound.inbound_mail_ticket_create": lambda w: _call(
        "service.inbound.inbound_mail_ticket_create",
        actor=w.mail_agent,
        inbound_id=w.unsorted[1].pk,
        customer=w.mail_customer,
    ),
    "service.inbound.inbound_mail_discard": lambda w: _call(
        "service.inbound.inbound_mail_discard", actor=w.mail_agent, inbound_id=w.form_mail.pk, reason="Spam"
    ),
    "service.public.ticket_submit_public": lambda w: _call(
        "service.public.ticket_submit_public",
        name="Li Wei",
        email="li.wei@atomic.example.com",
        subject="Broken seal",
        description="The seal of box 3 was broken.",
    ),
    "service.public.ticket_status_answer": lambda w: _call(
        "service.public.ticket_status_answer", link_id=w.mail_ticket.status_links.first().pk, body="Thanks!"
    ),
    "service.mail.ticket_reply_mail_send": lambda w: _desk_reply_mailed(w),
    "service.satisfaction.satisfaction_survey_send": lambda w: _desk_resolved(w),
    "service.satisfaction.satisfaction_rate": lambda w: _call(
        "service.satisfaction.satisfaction_rate",
        survey_id=w.mail_ticket.surveys.get(revoked_at__isnull=True).pk,
        score=2,
        comment="Slow",
    ),
    # The dashboards: a target an admin sets, and the refresh of the summary figures.
    "crm.dashboard.services.sales_target_save": lambda w: _call(
        "crm.dashboard.services.sales_target_save",
        actor=w.manager,
        target=_sales_target(w),
    ),
    "crm.dashboard.services.dashboard_refresh": lambda w: _call(
        "crm.dashboard.services.dashboard_refresh", actor=SYSTEM
    ),
    # The webhooks: an endpoint (on a port nobody answers), its ping, a resend of the failed
    # ping, an event's delivery, a secret rotated, then the endpoint removed.
    "crm.webhooks.services.webhook_endpoint_create": lambda w: _webhook_endpoint(w),
    "crm.webhooks.services.webhook_endpoint_update": lambda w: _call(
        "crm.webhooks.services.webhook_endpoint_update",
        actor=w.admin,
        endpoint_id=w.endpoint.pk,
        changes={"events": ["ticket.created", "ticket.resolved"]},
    ),
    "crm.webhooks.services.webhook_endpoint_ping": lambda w: _webhook_pinged(w),
    "crm.webhooks.services.webhook_delivery_resend": lambda w: _call(
        "crm.webhooks.services.webhook_delivery_resend", actor=w.admin, delivery_id=w.ping.pk
    ),
    "crm.webhooks.services.webhook_event_dispatch": lambda w: _webhook_dispatched(w),
    "crm.webhooks.services.webhook_endpoint_secret_rotate": lambda w: _call(
        "crm.webhooks.services.webhook_endpoint_secret_rotate", actor=w.admin, endpoint_id=w.endpoint.pk
    ),
    "crm.webhooks.services.webhook_endpoint_delete": lambda w: _call(
        "crm.webhooks.services.webhook_endpoint_delete", actor=w.admin, endpoint_id=w.endpoint.pk
    ),
    # Marketing: a segment of rep's customers, a campaign to it, its steps and its recipient's links.
    "customers.services.contact_marketing_consent_withdraw": lambda w: _marketing_consent_withdrawn(w),
    "marketing.services.segment_create": lambda w: _marketing_segment(w),
    "marketing.services.segment_update": lambda w: _call(
        "marketing.services.segment_update", actor=w.rep, segment_id=w.segment.pk, description="Tea buyers"
    ),
    "marketing.services.segment_delete": lambda w: _call(
        "marketing.services.segment_delete",
        actor=w.rep,
        segment_id=_call("marketing.services.segment_create", actor=w.rep, name="Atomic spare").pk,
    ),
    "marketing.services.campaign_create": lambda w: setattr(w, "campaign", _marketing_campaign(w, "Atomic campaign")),
    "marketing.services.campaign_update": lambda w: _call(
        "marketing.services.campaign_update", actor=w.rep, campaign_id=w.campaign.pk, name="Atomic spring"
    ),
    "marketing.services.campaign_test_send": lambda w: _call(
        "marketing.services.campaign_test_send", actor=w.rep, campaign_id=w.campaign.pk
    ),
    "marketing.services.campaign_schedule": lambda w: _call(
        "marketing.services.campaign_schedule", actor=w.manager, campaign_id=w.campaign.pk, send_at=_later()
    ),
    "marketing.services.campaign_unschedule": lambda w: _call(
        "marketing.services.campaign_unschedule", actor=w.manager, campaign_id=w.campaign.pk
    ),
    "marketing.services.campaign_cancel": lambda w: _call(
        "marketing.services.campaign_cancel",
        actor=w.manager,
        campaign_id=_marketing_campaign(w, "Atomic cancelled").pk,
        reason="Wrong season",
    ),
    # Starting hands the batches to the (inline) queue on commit: the campaign is sent at once.
    "marketing.services.campaign_start": lambda w: _marketing_started(w),
    "marketing.services.campaign_batch_hand": lambda w: _call(
        "marketing.services.campaign_batch_hand", campaign_id=w.campaign.pk
    ),
    "marketing.services.recipient_mail_result": lambda w: _call(
        "marketing.services.recipient_mail_result", recipient_id=w.campaign.recipients.get().pk, error=""
    ),
    "marketing.services.campaign_finish": lambda w: _call(
        "marketing.services.campaign_finish", actor=SYSTEM, campaign_id=_marketing_sending(w, "Atomic finish").pk
    ),
    "marketing.services.campaign_finish_if_done": lambda w: _call(
        "marketing.services.campaign_finish_if_done", campaign_id=_marketing_sending(w, "Atomic done").pk
    ),
    "marketing.services.recipient_click": lambda w: _call(
        "marketing.services.recipient_click", token=_marketing_token(w), index=0
    ),
    "marketing.services.recipient_unsubscribe": lambda w: _call(
        "marketing.services.recipient_unsubscribe", token=_marketing_token(w), one_click=True
    ),
    "marketing.services.campaign_opportunity_create": lambda w: _call(
        "marketing.services.campaign_opportunity_create",
        actor=w.rep,
        campaign_id=w.campaign.pk,
        customer_id=w.marketing_customer.pk,
        title="Atomic campaign deal",
        amount=Decimal("500.00"),
        expected_close_date=datetime.date(2027, 1, 31),
    ),
    # What comes back: a person's reply, a temporary and then a permanent bounce of the copy,
    # and the mailbox message that carries one.
    "marketing.services.recipient_reply": lambda w: _call(
        "marketing.services.recipient_reply", recipient_id=w.campaign.recipients.get().pk
    ),
    "marketing.services.recipient_bounce": lambda w: _marketing_bounced(w),
    "marketing.services.returned_mail_receive": lambda w: _marketing_returned(w),
    # A training with too little history records its "not enough data" version.
    "crm.insight.services.model_train": lambda w: _call(
        "crm.insight.services.model_train", actor=SYSTEM, kind="segments"
    ),
    # Imports: a file uploaded, mapped, checked (a dry run writes nothing) and committed, inline
    # and as the background task does it; presets saved and deleted.
    "customers.services.customer_import_create": lambda w: _call(
        "customers.services.customer_import_create", actor=w.rep, rows=[{"name": "Atomic Import Ltd"}], source="0" * 64
    ),
    "customers.services.opportunity_import_create": lambda w: _call(
        "customers.services.opportunity_import_create",
        actor=w.admin,
        customer=w.customer,
        title="Atomic imported deal",
        amount=Decimal("1000"),
        expected_close_date=datetime.date(2025, 6, 30),
        stage="won",
        owner=w.rep,
        created_at=timezone.now() - datetime.timedelta(days=400),
        keep_history=True,
        source_file="0" * 64,
    ),
    "orders.services.order_import_past": lambda w: _call(
        "orders.services.order_import_past",
        actor=w.manager,
        customer_id=w.customer.pk,
        external_ref="ATOMIC-PAST-1",
        order_date=datetime.date(2026, 2, 1),
        lines=[{"product": w.product, "quantity": Decimal(2), "unit_price": Decimal("90.00")}],
        source_file="0" * 64,
    ),
    "crm.core.imports.services.import_run_create": lambda w: setattr(
        w,
        "import_run",
        _call(
            "crm.core.imports.services.import_run_create",
            actor=w.rep,
            kind="customers",
            file_name="atomic.csv",
            content=b"name;email\nAtomic Bulk Ltd;bulk@atomic.example.com\n",
        ),
    ),
    "crm.core.imports.services.import_run_configure": lambda w: _call(
        "crm.core.imports.services.import_run_configure",
        actor=w.rep,
        run_id=w.import_run.pk,
        mapping={"name": "name", "email": "email"},
    ),
    "crm.core.imports.services.import_run_check": lambda w: _call(
        "crm.core.imports.services.import_run_check", actor=w.rep, run_id=w.import_run.pk
    ),
    "crm.core.imports.services.import_run_start": lambda w: _call(
        "crm.core.imports.services.import_run_start", actor=w.rep, run_id=w.import_run.pk, write=True
    ),
    "crm.core.imports.services.import_run_execute": lambda w: _call(
        "crm.core.imports.services.import_run_execute", run_id=w.import_run.pk, write=True
    ),
    "crm.core.imports.services.import_run_commit": lambda w: _call(
        "crm.core.imports.services.import_run_commit",
        actor=w.rep,
        run_id=_call(
            "crm.core.imports.services.import_run_check",
            actor=w.rep,
            run_id=_call(
                "crm.core.imports.services.import_run_create",
                actor=w.rep,
                kind="customers",
                file_name="atomic2.csv",
                content=b"name\nAtomic Second Ltd\n",
            ).pk,
        ).pk,
    ),
    "crm.core.imports.services.import_preset_save": lambda w: setattr(
        w,
        "import_preset",
        _call(
            "crm.core.imports.services.import_preset_save",
            actor=w.rep,
            kind="customers",
            name="Atomic preset",
            mapping={"name": "name"},
        ),
    ),
    "crm.core.imports.services.import_preset_delete": lambda w: _call(
        "crm.core.imports.services.import_preset_delete", actor=w.admin, preset_id=w.import_preset.pk
    ),
    "crm.api.services.token_create": lambda w: setattr(
        w,
        "api_token",
        _call("crm.api.services.token_create", actor=w.rep, name="Atomic ERP", scopes=["read"], expires_at=None)[0],
    ),
    "crm.api.services.token_used": lambda w: _call("crm.api.services.token_used", token=w.api_token),
    "crm.api.services.idempotent_call": lambda w: importlib.import_module("crm.api.services").idempotent_call(
        user=w.rep,
        key="atomic-1",
        method="POST",
        path="/api/v1/customers/",
        body=b"{}",
        call=lambda: (201, {"id": 1}),
    ),
    # A day and more later the key of the call above is past API_IDEMPOTENCY_HOURS.
    "crm.api.services.idempotency_keys_purge": lambda w: _idempotency_keys_purged(w),
    "crm.api.services.token_revoke": lambda w: _call(
        "crm.api.services.token_revoke", actor=w.rep, token_id=w.api_token.pk
    ),
}


def _idempotency_keys_purged(w):
    from crm.api.models import IdempotentRequest

    later = timezone.now() + datetime.timedelta(hours=25)
    assert _call("crm.api.services.idempotency_keys_purge", now=later) >= 1
    assert not IdempotentRequest.objects.filter(key="atomic-1").exists()


def _webhook_endpoint(w):
    w.endpoint = _call(
        "crm.webhooks.services.webhook_endpoint_create",
        actor=w.admin,
        name="Atomic hooks",
        url="http://127.0.0.1:9/hooks",
        events=["ticket.created"],
    )


def _webhook_pinged(w):
    from crm.webhooks.models import WebhookDelivery

    w.ping = _call("crm.webhooks.services.webhook_endpoint_ping", actor=w.admin, endpoint_id=w.endpoint.pk)
    # The ping was attempted after the commit (inline in the test settings) and failed for good.
    assert WebhookDelivery.objects.get(pk=w.ping.pk).status == "failed"


def _webhook_dispatched(w):
    from crm.webhooks.models import WebhookDelivery

    (delivery,) = _call("crm.webhooks.services.webhook_event_dispatch", event="ticket.created", object_id=w.ticket.pk)
    assert WebhookDelivery.objects.filter(pk=delivery.pk, payload__data__number=w.ticket.number).exists()


def _later():
    return timezone.now() + datetime.timedelta(days=1)


def _marketing_segment(w):
    from customers.tests.factories import ContactFactory

    w.marketing_customer = CustomerFactory(owner=w.rep, name="Atomic Tea Ltd")
    ContactFactory(customer=w.marketing_customer, email="buyer@atomic-tea.example.com", marketing_consent=True)
    w.segment = _call("marketing.services.segment_create", actor=w.rep, name="Atomic segment")


def _marketing_campaign(w, name):
    return _call(
        "marketing.services.campaign_create",
        actor=w.rep,
        segment=w.segment,
        name=name,
        language="en",
        subject_en="News for {{ customer.name }}",
        body_en="Dear {{ contact.name }}, see https://shop.example.com/atomic",
    )


def _marketing_started(w):
    from marketing.choices import CampaignStatus

    _call("marketing.services.campaign_schedule", actor=w.manager, campaign_id=w.campaign.pk, send_at=_later())
    _call("marketing.services.campaign_start", actor=SYSTEM, campaign_id=w.campaign.pk)
    w.campaign.refresh_from_db()
    assert w.campaign.status == CampaignStatus.SENT


def _marketing_sending(w, name):
    """A campaign started with nobody left to mail (its recipients all had their outcome)."""
    from marketing.models import Campaign

    campaign = _marketing_campaign(w, name)
    Campaign.objects.filter(pk=campaign.pk).update(status="sending", started_at=timezone.now())
    return campaign


def _marketing_token(w):
    from crm.core.tokens import token_hash

    w.campaign.recipients.update(token_hash=token_hash("atomic-token"))
    return "atomic-token"


def _marketing_bounced(w):
    from marketing.models import Recipient, Suppression

    recipient_id = w.campaign.recipients.get().pk
    _call("marketing.services.recipient_bounce", recipient_id=recipient_id, permanent=False, status_code="4.2.2")
    _call("marketing.services.recipient_bounce", recipient_id=recipient_id, permanent=True, status_code="5.1.1")
    bounced = Recipient.objects.get(pk=recipient_id)
    assert bounced.soft_bounces == 1 and bounced.bounced_at is not None
    assert Suppression.objects.filter(email="buyer@atomic-tea.example.com").exists()


def _marketing_returned(w):
    from marketing.models import ReturnedMail

    returned, new = _call("marketing.services.returned_mail_receive", raw=_raw_mail("x@y.example", "Hi", "atomic-r"))
    assert new and ReturnedMail.objects.filter(pk=returned.pk, kind="unrecognised").exists()


def _marketing_consent_withdrawn(w):
    from customers.tests.factories import ContactFactory

    contact = ContactFactory(customer=CustomerFactory(owner=w.rep), email="no.more@example.com", marketing_consent=True)
    _call("customers.services.contact_marketing_consent_withdraw", email=contact.email, cause="asked by phone")


def _sales_target(w):
    from crm.dashboard.models import SalesTarget, TargetPeriod

    return SalesTarget(
        owner=w.rep, period=TargetPeriod.MONTH, starts_on=timezone.localdate().replace(day=1), amount=Decimal("1000")
    )


def _ticket_opened(w, keep=True):
    from service.services import ticket_create

    if keep:
        w.agent = UserFactory(username="atomic_agent", role=Role.SERVICE_AGENT)
        w.service_manager = UserFactory(username="atomic_service_manager", role=Role.SERVICE_MANAGER)
        w.desk_customer = CustomerFactory(owner=w.rep)
    ticket = ticket_create(
        actor=w.agent,
        customer=w.desk_customer,
        contact=None,
        kind="inquiry",
        channel="phone",
        subject="Atomic ticket",
        description="",
    )
    if keep:
        w.ticket = ticket
    return ticket


def _raw_mail(sender: str, subject: str, message_id: str) -> bytes:
    return f"Message-ID: <{message_id}@mail.example.com>\nFrom: {sender}\nSubject: {subject}\n\nHello\n".encode()


def _desk_mail(w):
    """A new mail from a known contact opens a ticket; two from strangers wait to be sorted."""
    from customers.tests.factories import ContactFactory
    from service.inbound import inbound_mail_receive

    w.mail_agent = UserFactory(username="atomic_mail_agent", role=Role.SERVICE_AGENT)
    w.mail_customer = CustomerFactory(owner=w.rep, name="Atomic Mail Ltd", email="desk@atomic.example.com")
    ContactFactory(customer=w.mail_customer, name="Li Wei", email="li.wei@atomic.example.com")
    opened, _new = inbound_mail_receive(raw=_raw_mail("li.wei@atomic.example.com", "Leaking pump", "atomic-1"))
    w.mail_ticket = opened.ticket
    w.unsorted = [
        inbound_mail_receive(raw=_raw_mail(f"stranger{n}@elsewhere.example.org", "Hi", f"atomic-{n + 2}"))[0]
        for n in range(2)
    ]


def _desk_reply_mailed(w):
    from service.services import ticket_reply_add, ticket_start

    ticket_start(actor=w.mail_agent, ticket_id=w.mail_ticket.pk)
    entry = ticket_reply_add(actor=w.mail_agent, ticket=w.mail_ticket, body="On our way.", public=True)
    assert _call("service.mail.ticket_reply_mail_send", entry_id=entry.pk) == "li.wei@atomic.example.com"


def _desk_resolved(w):
    from service.services import ticket_resolve

    ticket_resolve(actor=w.mail_agent, ticket_id=w.mail_ticket.pk, comment="Replaced the seal")
    # Resolving already sent the survey (on commit); sending again replaces it.
    assert _call("service.satisfaction.satisfaction_survey_send", ticket_id=w.mail_ticket.pk) is not None


def _reminded(w):
    contract = active_contract(w.rep, w.customer, "1000.00", manager=w.manager, signatory=w.signatory)
    today = contract.end_date - datetime.timedelta(days=7)
    assert _call("contracts.notifications.contract_renewal_reminders_send", today=today)


def _committed(instance, field):
    assert getattr(type(instance).objects.get(pk=instance.pk), field) is not None


def test_every_public_function_of_the_service_modules_is_an_atomic_service():
    found = _public(service_modules())
    not_services = {
        path: [
            problem
            for problem, failed in [
                ("not named <entity>_<verb>", not SERVICE_NAME.fullmatch(path.rsplit(".", 1)[1])),
                ("not decorated with @transaction.atomic", not is_atomic(function)),
                ("not called in SERVICE_CALLS", path not in SERVICE_CALLS),
            ]
            if failed
        ]
        for path, function in found.items()
    }
    not_services = {path: problems for path, problems in not_services.items() if problems}
    assert not not_services, (
        "a service module exports services only: move reads to the app's selectors and make helpers "
        f"private or move them to their own module: {not_services}"
    )


def test_every_public_function_of_the_other_writer_modules_is_classified():
    found = _public(writer_modules())
    helpers = {path for path, function in found.items() if needs_callers_transaction(function)}
    unclassified = set(found) - set(SERVICE_CALLS) - set(NOTIFICATION_READS) - helpers
    assert not unclassified, f"add these to SERVICE_CALLS (or mark them in_callers_transaction): {unclassified}"
    assert not set(SERVICE_CALLS) - set(found), "SERVICE_CALLS names functions that no longer exist"
    assert not set(SERVICE_CALLS) & helpers


def test_every_service_is_atomic_by_itself():
    found = public_functions()
    not_atomic = [path for path in SERVICE_CALLS if not is_atomic(found[path])]
    assert not not_atomic, f"decorate with @transaction.atomic: {not_atomic}"


def test_selectors_and_steps_that_lock_or_write_need_the_callers_transaction():
    unmarked = [
        path
        for path, function in _public(helper_modules()).items()
        if not needs_callers_transaction(function)
        and [marker for marker in LOCK_OR_WRITE_MARKERS if marker in inspect.getsource(inspect.unwrap(function))]
    ]
    assert not unmarked, f"mark them in_callers_transaction (or make them services): {unmarked}"


def test_helpers_that_need_the_callers_transaction_refuse_to_run_without_one():
    found = {**public_functions(), **_public(helper_modules())}
    helpers = [function for function in found.values() if needs_callers_transaction(function)]
    assert len(helpers) >= 4  # the signing key, the contract's lock and status steps, its lock for orders
    assert not connection.in_atomic_block
    for helper in helpers:
        with pytest.raises(TransactionManagementError, match="inside a transaction"):
            helper()


def _last_event_id():
    return AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0


@pytest.mark.django_db(transaction=True)
def test_every_service_commits_when_called_outside_any_transaction():
    w = SimpleNamespace()
    _people(w)
    failures = {}
    for path, call in SERVICE_CALLS.items():
        assert not connection.in_atomic_block
        before = _last_event_id()
        try:
            call(w)
        except Exception as error:  # collect them all, then fail naming each
            failures[path] = f"{type(error).__name__}: {error}"
            continue
        if _last_event_id() <= before and path not in NOT_AUDITED:
            failures[path] = "no audit event was committed"
    assert not failures, failures
    # The journey really ran: spot-check its end states.
    w.deal.refresh_from_db()
    w.order.refresh_from_db()
    assert (w.deal.status, w.order.status) == (ContractStatus.COMPLETED, OrderStatus.CLOSED)
    w.opportunity.refresh_from_db()
    assert (w.opportunity.stage, w.opportunity.owner) == ("won", w.other_rep)
