"""Importing opportunities: each row names its customer (by external reference or name),
goes through OpportunityForm's fields and rules, and is written by
`services.opportunity_import_create` (the rules of a deal opened on its page; a won or lost
row then takes the stage step, which needs the right to close deals) or, under the update
policy, by `opportunity_update` and the stage steps. A duplicate is the same customer with
the same name (title, case and spaces aside), in the file or in the database.
"""

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.exceptions import DomainError
from crm.core.imports import values as parse
from crm.core.imports.registry import CREATE, ERROR, SKIP, UPDATE, Column, ImportContext, Importer, Row
from crm.core.imports.rows import RowFormMixin, form_errors, share_fields
from crm.core.roles import owner_candidates
from customers import selectors, services
from customers.choices import CLOSED_STAGES, OpportunitySource, OpportunityStage
from customers.forms import OpportunityForm
from customers.models import Customer, LostReason, Opportunity

CURRENCY_NAMES = {"RMB": "CNY", "¥": "CNY", "￥": "CNY", "人民币": "CNY", "美元": "USD", "$": "USD"}
TERMS = ("title", "amount", "currency", "expected_close_date", "source", "probability_override", "next_step")


@share_fields
class OpportunityRowForm(RowFormMixin, OpportunityForm):
    """OpportunityForm's fields and rules for one row; the customer and the owner are found
    by the importer (by reference, name and username)."""

    class Meta(OpportunityForm.Meta):
        fields = [name for name in OpportunityForm.Meta.fields if name not in ("customer", "owner")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.ModelForm.__init__(self, *args, **kwargs)


def title_key(title: str) -> str:
    return " ".join(title.split()).casefold()


def _probability(value: Any) -> int | None:
    raw = parse.text(value).rstrip("%％").strip()
    if not raw:
        return None
    number = parse.amount(raw)
    if number is not None and 0 < number < 1 and "." in raw:
        number *= 100  # 0.6 written for 60%
    if number is None or number != number.to_integral_value() or not 0 <= number <= 100:
        raise ValueError(_("%(value)s is not a probability between 0 and 100.") % {"value": parse.text(value)})
    return int(number)


class OpportunityImporter(Importer):
    kind = "opportunities"
    label = gettext_lazy("Opportunities")
    permission = "customers.add_opportunity"
    columns = (
        Column(
            "customer_ref",
            gettext_lazy("customer's external reference"),
            ["customer ref", "customer id", "external ref", "客户编号", "客户ID"],
        ),
        Column("customer", gettext_lazy("customer"), ["customer name", "company", "客户", "客户名称", "公司"]),
        Column(
            "title",
            gettext_lazy("name"),
            ["title", "opportunity", "opportunity name", "deal", "商机", "商机名称", "机会名称", "项目名称", "名称"],
            required=True,
        ),
        Column("stage", gettext_lazy("stage"), ["阶段", "销售阶段", "商机阶段"]),
        Column("amount", gettext_lazy("amount"), ["value", "金额", "预计金额", "商机金额"], required=True),
        Column("currency", gettext_lazy("currency"), ["币种", "货币"]),
        Column(
            "expected_close_date",
            gettext_lazy("expected close date"),
            ["close date", "expected close", "预计成交日期", "预计签约日期", "成交日期"],
            required=True,
        ),
        Column("source", gettext_lazy("source"), ["lead source", "来源", "线索来源", "商机来源"]),
        Column(
            "probability_override",
            gettext_lazy("probability (%)"),
            ["probability", "win probability", "概率", "赢率", "成交概率"],
        ),
        Column("next_step", gettext_lazy("next step"), ["下一步"]),
        Column("lost_reason", gettext_lazy("lost reason"), ["reason lost", "丢单原因", "输单原因"]),
        Column("owner", gettext_lazy("owner"), ["sales", "负责人", "所有者", "销售"]),
        Column(
            "created_at", gettext_lazy("created"), ["created at", "creation date", "创建日期", "创建时间"], history=True
        ),
    )

    def __init__(self) -> None:
        self._choices: dict[str, dict[str, str]] = {}

    def choices(self) -> dict[str, dict[str, str]]:
        if not self._choices:
            self._choices = {
                "stage": parse.choice_lookup(OpportunityStage),
                "source": parse.choice_lookup(OpportunitySource),
            }
        return self._choices

    def process(self, rows: list[Row], context: ImportContext) -> None:
        actor = context.actor
        customers = self._customers(rows, actor)
        users = self._users(rows)
        reasons = {reason.name.casefold(): reason for reason in LostReason.objects.filter(is_active=True)}
        may_assign = actor.has_perm("customers.assign_opportunity")
        candidates = set(owner_candidates().values_list("pk", flat=True)) if may_assign else set()
        may_close = actor.has_perm("customers.close_opportunity")
        for row in rows:
            customer = customers.get(row.line)
            self._check(row, context, customer, users, reasons, may_assign, candidates, may_close)
        self._duplicates([row for row in rows if row.action != ERROR], context)
        if context.write:
            self._write(rows, context)

    def _customers(self, rows: list[Row], actor: Any) -> dict[int, Customer | str]:
        """{line: the customer the actor may see, or the row's error}."""
        refs = [parse.text(row.get("customer_ref")) for row in rows]
        names = [parse.text(row.get("customer")) for row in rows]
        by_ref = selectors.customers_matching(field="external_ref", keys=refs)
        name_keys = selectors.duplicate_keys("name", names)
        by_name = selectors.customers_matching(field="name", keys=name_keys)
        ids = {customer.pk for customer in [*by_ref.values(), *by_name.values()]}
        visible = Customer.objects.visible_to(actor).in_bulk(ids) if ids else {}
        found: dict[int, Customer | str] = {}
        for index, row in enumerate(rows):
            match = by_ref.get(refs[index]) if refs[index] else by_name.get(name_keys[index]) if names[index] else None
            customer = visible.get(match.pk) if match else None
            if customer is not None:
                found[row.line] = customer
            elif refs[index] or names[index]:
                found[row.line] = _("No customer %(customer)s that you may see.") % {
                    "customer": refs[index] or names[index]
                }
            else:
                found[row.line] = _("Name the opportunity's customer (its external reference or its name).")
        return found

    def _users(self, rows: list[Row]) -> dict[str, Any]:
        names = {parse.text(row.get("owner")).lower() for row in rows} - {""}
        if not names:
            return {}
        found = get_user_model().objects.annotate(username_lower=Lower("username")).filter(username_lower__in=names)
        return {user.username_lower: user for user in found}

    def _check(
        self,
        row: Row,
        context: ImportContext,
        customer: Customer | str | None,
        users: dict[str, Any],
        reasons: dict[str, LostReason],
        may_assign: bool,
        candidates: set[int],
        may_close: bool,
    ) -> None:
        data: dict[str, Any] = {name: parse.text(row.get(name)) for name in ("title", "next_step")}
        data["currency"] = parse.text(row.get("currency")).upper()
        data["currency"] = CURRENCY_NAMES.get(data["currency"], data["currency"]) or settings.DEFAULT_CURRENCY
        for name, parser, args in (
            ("amount", parse.amount, ()),
            ("expected_close_date", parse.date, ()),
            ("probability_override", _probability, ()),
            ("stage", parse.choice, (self.choices()["stage"], OpportunityStage.PROSPECTING)),
            ("source", parse.choice, (self.choices()["source"], OpportunitySource.OTHER)),
        ):
            try:
                data[name] = parser(row.get(name), *args)
            except ValueError as error:
                row.fail(str(error))
                data[name] = None
        form = OpportunityRowForm(
            data={name: "" if data.get(name) is None else data[name] for name in TERMS if name != "source"}
            | {"source": data.get("source") or OpportunitySource.OTHER}
        )
        if row.action != ERROR and not form.is_valid():  # a value already refused is not reported twice
            row.fail(form_errors(form))
        if isinstance(customer, str):
            row.fail(customer)
        stage = data.get("stage") or OpportunityStage.PROSPECTING
        lost_reason = None
        if stage in CLOSED_STAGES and not may_close:
            row.fail(_("Your role may not mark opportunities won or lost."))
        if stage == OpportunityStage.LOST:
            reason_name = parse.text(row.get("lost_reason"))
            lost_reason = reasons.get(reason_name.casefold())
            if lost_reason is None:
                row.fail(
                    _("Say why the opportunity was lost, with one of the offered reasons.")
                    if not reason_name
                    else _("%(reason)s is not one of the offered lost reasons.") % {"reason": reason_name}
                )
        owner = None
        username = parse.text(row.get("owner"))
        if username:
            owner = users.get(username.lower())
            if owner is None or not owner.is_active:
                row.fail(_("%(name)s is not an active user.") % {"name": username})
            elif owner != context.actor and not context.keep_history:
                if not may_assign:
                    row.fail(_("Only a sales manager can give an opportunity to another owner."))
                elif owner.pk not in candidates:
                    row.fail(_("The owner must be an active sales user."))
        created_at = None
        if context.keep_history and parse.text(row.get("created_at")):
            try:
                day = parse.date(row.get("created_at"))
            except ValueError as error:
                row.fail(str(error))
            else:
                if day is not None:
                    created_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        if row.action == ERROR:
            return
        row.data = {
            **{name: form.cleaned_data[name] for name in TERMS},
            "customer": customer,
            "stage": stage,
            "lost_reason": lost_reason,
            "owner": owner,
            "created_at": created_at,
        }

    def _duplicates(self, rows: list[Row], context: ImportContext) -> None:
        customer_ids = {row.data["customer"].pk for row in rows}
        existing: dict[tuple[int, str], Opportunity] = {}
        for opportunity in Opportunity.objects.filter(customer_id__in=customer_ids).only(
            "id", "title", "customer_id", "stage"
        ):
            existing.setdefault((opportunity.customer_id, title_key(opportunity.title)), opportunity)
        changeable = set(
            Opportunity.objects.visible_to(context.actor, "change")
            .filter(pk__in=[opportunity.pk for opportunity in existing.values()])
            .values_list("pk", flat=True)
        )
        for row in rows:
            key = (row.data["customer"].pk, title_key(row.data["title"]))
            earlier = context.seen_before("opportunity", f"{key[0]}:{key[1]}", row.line)
            match = existing.get(key)
            if earlier is not None:
                row.decide(SKIP, _("The same customer and name as row %(line)s of this file.") % {"line": earlier})
            elif match is None:
                row.decide(CREATE)
            elif context.policy != UPDATE:
                row.decide(
                    SKIP,
                    _("%(customer)s already has this opportunity: %(title)s.")
                    % {"customer": row.data["customer"].name, "title": match.title},
                )
            elif match.pk not in changeable:
                row.fail(_("This opportunity exists and you may not change it: %(title)s.") % {"title": match.title})
            elif match.stage in CLOSED_STAGES:
                row.fail(_("A closed opportunity cannot be edited; reopen it first."))
            else:
                row.data["pk"] = match.pk
                row.decide(UPDATE, _("Updates %(title)s.") % {"title": match.title})

    def _write(self, rows: list[Row], context: ImportContext) -> None:
        for row in rows:
            if row.action not in (CREATE, UPDATE):
                continue
            data = row.data
            terms = {name: data[name] for name in TERMS}
            try:
                if row.action == CREATE:
                    services.opportunity_import_create(
                        actor=context.actor,
                        customer=data["customer"],
                        stage=data["stage"],
                        owner=data["owner"],
                        lost_reason=data["lost_reason"],
                        created_at=data["created_at"],
                        keep_history=context.keep_history,
                        source_file=context.sha256,
                        **terms,
                    )
                    continue
                opportunity = services.opportunity_update(actor=context.actor, opportunity_id=data["pk"], **terms)
                if parse.text(row.get("stage")) and opportunity.stage != data["stage"]:
                    services.opportunity_stage_move(
                        actor=context.actor,
                        opportunity_id=opportunity.pk,
                        stage=data["stage"],
                        lost_reason=data["lost_reason"],
                    )
            except DomainError as error:
                row.fail(error.message)
