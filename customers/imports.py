"""What the customers app can import: customers, their contacts and opportunities.

Each row goes through the same form as a single record (CustomerForm, ContactForm,
OpportunityForm's rules), duplicates are found by the normalized name, e-mail and phone
digits of the customers' duplicate rule (customers.selectors.duplicate_keys, the
expressions of their generated key columns), against the database and within the file,
and the writes go through the services.
"""

import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.exceptions import DomainError
from crm.core.imports import values as parse
from crm.core.imports.registry import (
    CREATE,
    ERROR,
    SKIP,
    UPDATE,
    Column,
    ImportContext,
    Importer,
    Row,
    importer_register,
)
from crm.core.imports.rows import RowChecker, RowFormMixin, form_errors, share_fields
from crm.core.roles import owner_candidates
from customers import selectors, services
from customers.choices import REGION_CHINESE_NAMES, CustomerKind, CustomerStatus, CustomerTier, Industry, Region
from customers.forms import ContactForm, CustomerForm
from customers.models import Contact, Customer
from customers.permissions import can_reassign

DUPLICATE_FIELDS = ("name", "email", "phone")


@share_fields
class CustomerRowForm(RowFormMixin, CustomerForm):
    """CustomerForm's fields and rules for one row, without the page's layout; the owner is
    read by username and duplicates by the import's bulk check (the same keys)."""

    class Meta(CustomerForm.Meta):
        fields = [name for name in CustomerForm.Meta.fields if name != "owner"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.ModelForm.__init__(self, *args, **kwargs)


@share_fields
class ContactRowForm(RowFormMixin, ContactForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.ModelForm.__init__(self, *args, **kwargs)


ContactRowForm.base_fields["language"].required = False
CUSTOMER_ROWS = RowChecker(CustomerRowForm)


def _parse_into(row: Row, data: dict[str, Any], name: str, parser: Any, *args: Any) -> None:
    if name not in row.values:
        return
    try:
        data[name] = parser(row.get(name), *args)
    except ValueError as error:
        row.fail(str(error))


def region_lookup() -> dict[str, str]:
    """{name, lower case: region}: the labels and values in every language, and each
    region's full and short Chinese names ("广东省", "广东")."""
    lookup = parse.choice_lookup(Region)
    for region, names in REGION_CHINESE_NAMES.items():
        lookup.update(dict.fromkeys(names, str(region)))
    return lookup


def _users_by_username(rows: list[Row]) -> dict[str, Any]:
    """{lower-case username: user} for the owners the rows name."""
    names = {parse.text(row.get("owner")).lower() for row in rows} - {""}
    if not names:
        return {}
    users = get_user_model().objects.annotate(username_lower=Lower("username")).filter(username_lower__in=names)
    return {user.username_lower: user for user in users}


def _duplicate_message(existing: selectors.CustomerMatch, field: str, visible: set[int]) -> str:
    label = selectors.DUPLICATE_LABELS.get(field, gettext_lazy("external reference"))
    if existing.pk in visible:
        return _("A customer with this %(label)s already exists: %(name)s.") % {"label": label, "name": existing.name}
    return _("A customer with this %(label)s already exists and belongs to another owner; ask a sales manager.") % {
        "label": label
    }


class CustomerImporter(Importer):
    kind = "customers"
    label = gettext_lazy("Customers")
    permission = "customers.add_customer"
    columns = (
        Column(
            "external_ref",
            gettext_lazy("external reference"),
            ["external id", "ref", "id", "客户编号", "编号", "外部编号", "客户ID"],
        ),
        Column(
            "name",
            gettext_lazy("name"),
            ["customer", "customer name", "company", "客户", "客户名称", "名称", "公司", "公司名称"],
            required=True,
        ),
        Column("kind", gettext_lazy("kind"), ["type", "类型", "客户类型"]),
        Column("industry", gettext_lazy("industry"), ["行业"]),
        Column("tier", gettext_lazy("tier"), ["level", "等级", "级别"]),
        Column("status", gettext_lazy("status"), ["状态"]),
        Column("email", gettext_lazy("e-mail"), ["email", "e-mail address", "mail", "邮箱", "电子邮件", "电子邮箱"]),
        Column("phone", gettext_lazy("phone"), ["telephone", "tel", "mobile", "电话", "手机", "联系电话", "手机号"]),
        Column("address", gettext_lazy("address"), ["地址"]),
        Column("region", gettext_lazy("region"), ["province", "state", "地区", "省份", "省", "区域"]),
        Column("notes", gettext_lazy("notes"), ["note", "remarks", "备注"]),
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
                "kind": parse.choice_lookup(CustomerKind),
                "industry": parse.choice_lookup(Industry),
                "tier": parse.choice_lookup(CustomerTier),
                "status": parse.choice_lookup(CustomerStatus),
                "region": region_lookup(),
            }
        return self._choices

    def process(self, rows: list[Row], context: ImportContext) -> None:
        actor = context.actor
        choices = self.choices()
        users = _users_by_username(rows)
        candidates = set(owner_candidates().values_list("pk", flat=True)) if can_reassign(actor) else set()
        for row in rows:
            if row.line in context.checked:
                row.data = dict(context.checked[row.line])
            else:
                self._check_values(row, choices)
                if row.action != ERROR:
                    context.checked[row.line] = dict(row.data)
            username = parse.text(row.get("owner"))
            if username:
                owner = users.get(username.lower())
                if owner is None or not owner.is_active:
                    row.fail(_("%(name)s is not an active user.") % {"name": username})
                elif owner != actor and not context.keep_history and owner.pk not in candidates:
                    row.fail(
                        _("Only a sales manager can give a customer to another owner.")
                        if not can_reassign(actor)
                        else _("The owner must be an active sales user.")
                    )
                else:
                    row.data["owner"] = owner
            if context.keep_history and row.get("created_at") != "":
                try:
                    day = parse.date(row.get("created_at"))
                except ValueError as error:
                    row.fail(str(error))
                else:
                    if day is not None:
                        row.data["created_at"] = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        self._duplicates(rows, context)
        if context.write:
            self._write(rows, context)

    def _check_values(self, row: Row, choices: dict[str, dict[str, str]]) -> None:
        """The row's own values through CustomerForm's rules: `row.data` holds them cleaned
        (JSON values), or the row fails."""
        data: dict[str, Any] = {}
        for name in ("external_ref", "name", "email", "address", "notes"):
            if name in row.values:
                data[name] = parse.text(row.get(name))
        for name, lookup in choices.items():
            _parse_into(row, data, name, parse.choice, lookup)
        _parse_into(row, data, "phone", parse.phone)
        defaults = {
            "kind": CustomerKind.COMPANY,
            "industry": Industry.OTHER,
            "tier": CustomerTier.STANDARD,
            "status": CustomerStatus.LEAD,
        }
        check = CUSTOMER_ROWS.check(
            {
                **defaults,
                **{k: v for k, v in data.items() if v != ""},
                **{k: data.get(k, "") for k in ("email", "phone", "address", "notes", "external_ref")},
            }
        )
        if not check.is_valid():
            row.fail(check.errors)
        else:
            row.data = {
                name: check.cleaned_data[name] for name in check.cleaned_data if name in data or name in defaults
            }

    def _duplicates(self, rows: list[Row], context: ImportContext) -> None:
        checked = [row for row in rows if row.action != "error"]
        keys = {
            field: selectors.duplicate_keys(field, [row.data.get(field, "") for row in checked])
            for field in DUPLICATE_FIELDS
        }
        refs = [row.data.get("external_ref", "") for row in checked]
        existing = {field: selectors.customers_matching(field=field, keys=keys[field]) for field in DUPLICATE_FIELDS}
        existing["external_ref"] = selectors.customers_matching(field="external_ref", keys=refs)
        ids = {customer.pk for found in existing.values() for customer in found.values()}
        visible = (
            set(Customer.objects.visible_to(context.actor).filter(pk__in=ids).values_list("pk", flat=True))
            if ids
            else set()
        )
        changeable = (
            set(Customer.objects.visible_to(context.actor, "change").filter(pk__in=ids).values_list("pk", flat=True))
            if ids
            else set()
        )
        for index, row in enumerate(checked):
            row_keys = {"external_ref": refs[index], **{field: keys[field][index] for field in DUPLICATE_FIELDS}}
            earlier = None
            for field, key in row_keys.items():
                line = context.seen_before(field, key, row.line)
                if line is not None and earlier is None:
                    earlier = (field, line)
            if earlier is not None:
                row.decide(
                    SKIP,
                    _("The same %(label)s as row %(line)s of this file.")
                    % {
                        "label": selectors.DUPLICATE_LABELS.get(earlier[0], gettext_lazy("external reference")),
                        "line": earlier[1],
                    },
                )
                continue
            matches = {field: existing[field][key] for field, key in row_keys.items() if key and key in existing[field]}
            if not matches:
                row.decide(CREATE)
                continue
            found = {customer.pk for customer in matches.values()}
            field, customer = next(iter(matches.items()))
            if len(found) > 1:
                row.fail(
                    _("Matches more than one existing customer (by %(fields)s).")
                    % {
                        "fields": ", ".join(
                            str(selectors.DUPLICATE_LABELS.get(f, gettext_lazy("external reference"))) for f in matches
                        )
                    }
                )
            elif context.policy == UPDATE and customer.pk in changeable:
                row.data["pk"] = customer.pk
                row.decide(UPDATE, _("Updates %(name)s.") % {"name": customer.name})
            elif context.policy == UPDATE:
                row.fail(_duplicate_message(customer, field, visible))
            else:
                row.decide(SKIP, _duplicate_message(customer, field, visible))

    def _write(self, rows: list[Row], context: ImportContext) -> None:
        creates = [row for row in rows if row.action == CREATE]
        if creates:
            services.customer_import_create(
                actor=context.actor,
                rows=[row.data for row in creates],
                keep_history=context.keep_history,
                source=context.sha256,
            )
        for row in rows:
            if row.action != UPDATE:
                continue
            values = {name: value for name, value in row.data.items() if name not in ("pk", "created_at")}
            try:
                services.customer_update(actor=context.actor, customer_id=row.data["pk"], **values)
            except DomainError as error:
                row.fail(error.message)


class ContactImporter(Importer):
    kind = "contacts"
    label = gettext_lazy("Contacts")
    permission = "customers.add_contact"
    columns = (
        Column(
            "customer_ref",
            gettext_lazy("customer's external reference"),
            ["customer ref", "customer id", "external ref", "客户编号", "客户ID"],
        ),
        Column("customer", gettext_lazy("customer"), ["customer name", "company", "客户", "客户名称", "公司"]),
        Column("name", gettext_lazy("name"), ["contact", "contact name", "联系人", "姓名", "名字"], required=True),
        Column("title", gettext_lazy("title"), ["job title", "position", "职位", "职务"]),
        Column("email", gettext_lazy("e-mail"), ["email", "mail", "邮箱", "电子邮件", "电子邮箱"]),
        Column("phone", gettext_lazy("phone"), ["telephone", "tel", "mobile", "电话", "手机", "手机号"]),
        Column("is_primary", gettext_lazy("primary contact"), ["primary", "主要联系人", "首要联系人"]),
        Column("language", gettext_lazy("preferred language"), ["language", "语言"]),
    )

    def process(self, rows: list[Row], context: ImportContext) -> None:
        by_ref = selectors.customers_matching(
            field="external_ref", keys=[parse.text(row.get("customer_ref")) for row in rows]
        )
        names = [parse.text(row.get("customer")) for row in rows]
        name_keys = selectors.duplicate_keys("name", names)
        by_name = selectors.customers_matching(field="name", keys=name_keys)
        ids = {customer.pk for customer in [*by_ref.values(), *by_name.values()]}
        changeable = set(
            Customer.objects.visible_to(context.actor, "change").filter(pk__in=ids).values_list("pk", flat=True)
        )
        for index, row in enumerate(rows):
            ref = parse.text(row.get("customer_ref"))
            customer = by_ref.get(ref) if ref else by_name.get(name_keys[index]) if names[index] else None
            if customer is None or customer.pk not in changeable:
                if ref or names[index]:
                    row.fail(_("No customer %(customer)s that you may change.") % {"customer": ref or names[index]})
                else:
                    row.fail(_("Name the contact's customer (its external reference or its name)."))
            data: dict[str, Any] = {
                name: parse.text(row.get(name)) for name in ("name", "title", "email") if name in row.values
            }
            _parse_into(row, data, "phone", parse.phone)
            _parse_into(row, data, "is_primary", parse.boolean)
            language = parse.text(row.get("language")).lower().replace("_", "-")
            data["language"] = {
                "zh": "zh-hans",
                "zh-cn": "zh-hans",
                "中文": "zh-hans",
                "english": "en",
                "英文": "en",
            }.get(language, language)
            form = ContactRowForm(data={**data, "is_primary": "on" if data.get("is_primary") else ""})
            if not form.is_valid():
                row.fail(form_errors(form))
            elif customer is not None:
                row.data = {**{name: form.cleaned_data[name] for name in data}, "customer": customer}
        checked = [row for row in rows if row.action != "error"]
        keys = {
            field: selectors.duplicate_keys(field, [row.data.get(field, "") for row in checked])
            for field in DUPLICATE_FIELDS
        }
        customer_ids = {row.data["customer"].pk for row in checked}
        contacts = list(
            Contact.objects.filter(customer_id__in=customer_ids).only("id", "name", "email", "phone", "customer_id")
        )
        contact_keys = {
            field: selectors.duplicate_keys(field, [getattr(contact, field) for contact in contacts])
            for field in DUPLICATE_FIELDS
        }
        lookup: dict[tuple, Contact] = {}
        for field in DUPLICATE_FIELDS:
            for contact, key in zip(contacts, contact_keys[field], strict=True):
                if key:
                    lookup.setdefault((contact.customer_id, field, key), contact)
        for index, row in enumerate(checked):
            customer_id = row.data["customer"].pk
            earlier = None
            match = None
            for field in DUPLICATE_FIELDS:
                key = keys[field][index]
                if not key:
                    continue
                line = context.seen_before(f"contact-{field}", f"{customer_id}:{key}", row.line)
                earlier = earlier or (line and (field, line))
                match = match or lookup.get((customer_id, field, key))
            if earlier:
                row.decide(
                    SKIP,
                    _("The same %(label)s as row %(line)s of this file.")
                    % {"label": selectors.DUPLICATE_LABELS[earlier[0]], "line": earlier[1]},
                )
            elif match is None:
                row.decide(CREATE)
            elif context.policy == UPDATE:
                row.data["pk"] = match.pk
                row.decide(UPDATE, _("Updates %(name)s.") % {"name": match.name})
            else:
                row.decide(
                    SKIP,
                    _("%(customer)s already has this contact: %(name)s.")
                    % {"customer": row.data["customer"].name, "name": match.name},
                )
        if not context.write:
            return
        for row in checked:
            values = {name: value for name, value in row.data.items() if name not in ("pk", "customer")}
            try:
                if row.action == CREATE:
                    services.contact_create(actor=context.actor, customer_id=row.data["customer"].pk, **values)
                elif row.action == UPDATE:
                    services.contact_update(actor=context.actor, contact_id=row.data["pk"], **values)
            except DomainError as error:
                row.fail(error.message)


def register() -> None:
    importer_register(CustomerImporter())
    importer_register(ContactImporter())
