"""Importing past orders: one row per line, the rows of one order grouped by its number in
the system it comes from (the external number).

A past order happened outside the CRM, so it is not replayed through the draft, approval
and fulfilment steps (they would stamp today's date and ask today's approvers); it is
recorded as it ended, delivered, on its own date, by `services.order_import_past`, which
keeps every rule an order has: its customer visible to the importer, against a contract
the contract fit (same customer, active, the date inside the signed period, the currency,
the live orders' sum within the amount, under the contract's lock), a number from the
gap-free ORD sequence of the order's year, and an `order.created` event naming the file.
Lines are sold at the file's unit price (the price of the day, not today's catalog price),
each product named by SKU. An external number already in the database is skipped (a
delivered order is never changed by a file). Only who may place and deliver orders (a
sales manager, an administrator) imports them.

The engine hands the rows in batches, all the rows of one order (`group_field`) in the same
batch wherever they are in the file: an order is checked and committed whole, also when
only the valid rows are committed.
"""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.models import Contract
from contracts.selectors import contract_list
from crm.core.exceptions import DomainError, DuplicateRecord
from crm.core.imports import values as parse
from crm.core.imports.registry import CREATE, ERROR, SKIP, Column, ImportContext, Importer, Row
from customers.models import Customer
from customers.selectors import customers_matching, duplicate_keys
from orders import selectors, services
from orders.models import Order, Product

HEADER_FIELDS = ("customer_ref", "customer", "contract", "order_date", "delivered_on", "currency", "notes", "owner")
CURRENCY_NAMES = {"RMB": "CNY", "¥": "CNY", "￥": "CNY", "人民币": "CNY", "美元": "USD", "$": "USD"}


class PastOrderImporter(Importer):
    kind = "orders"
    label = gettext_lazy("Past orders")
    permission = "orders.add_order"
    group_field = "external_ref"
    columns = (
        Column(
            "external_ref",
            gettext_lazy("order number"),
            ["order", "order no", "external number", "order id", "订单号", "订单编号", "单号", "外部单号"],
            required=True,
        ),
        Column(
            "customer_ref",
            gettext_lazy("customer's external reference"),
            ["customer ref", "customer id", "客户编号", "客户ID"],
        ),
        Column("customer", gettext_lazy("customer"), ["customer name", "company", "客户", "客户名称", "公司"]),
        Column("contract", gettext_lazy("contract number"), ["contract", "contract no", "合同号", "合同编号"]),
        Column(
            "order_date",
            gettext_lazy("order date"),
            ["date", "ordered", "下单日期", "订单日期", "日期"],
            required=True,
        ),
        Column("delivered_on", gettext_lazy("delivery date"), ["delivered", "交货日期", "发货日期", "交付日期"]),
        Column("currency", gettext_lazy("currency"), ["币种", "货币"]),
        Column(
            "sku", gettext_lazy("SKU"), ["product code", "item code", "货号", "产品编码", "物料编码"], required=True
        ),
        Column("quantity", gettext_lazy("quantity"), ["qty", "数量"], required=True),
        Column("unit_price", gettext_lazy("unit price"), ["price", "单价", "价格"], required=True),
        Column("discount_percent", gettext_lazy("discount %"), ["discount", "折扣", "折扣%"]),
        Column("notes", gettext_lazy("notes"), ["note", "remarks", "备注"]),
        Column("owner", gettext_lazy("owner"), ["sales", "负责人", "销售"], history=True),
    )

    def may_use(self, user: Any) -> bool:
        """Past orders arrive delivered: whoever may place orders and move them through fulfilment."""
        return super().may_use(user) and user.has_perm("orders.fulfil_order")

    def process(self, rows: list[Row], context: ImportContext) -> None:
        groups: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            ref = parse.text(row.get("external_ref"))
            if not ref:
                row.fail(_("Give the order's number in the system it comes from."))
            else:
                groups[ref].append(row)
        products = Product.objects.in_bulk({parse.text(row.get("sku")) for row in rows} - {""}, field_name="sku")
        customers = self._customers(rows, context.actor)
        contracts = {
            contract.number: contract
            for contract in contract_list(user=context.actor).filter(
                number__in={parse.text(row.get("contract")) for row in rows} - {""}
            )
        }
        existing = dict(Order.objects.filter(external_ref__in=list(groups)).values_list("external_ref", "number"))
        users = self._users(rows) if context.keep_history else {}
        orders = []
        for ref, group in groups.items():
            if ref in existing:
                for row in group:
                    row.decide(
                        SKIP,
                        _("Order %(ref)s was imported already as %(number)s.") % {"ref": ref, "number": existing[ref]},
                    )
                continue
            order = self._order(ref, group, customers, contracts, products, users, context)
            if order is not None:
                orders.append((group, order))
        self._fit(orders, context)
        if context.write:
            for group, order in orders:
                if group[0].action != CREATE:
                    continue
                try:
                    services.order_import_past(
                        actor=context.actor, keep_history=context.keep_history, source_file=context.sha256, **order
                    )
                except DuplicateRecord as error:  # imported meanwhile, by another run
                    for row in group:
                        row.decide(SKIP, error.message)
                except DomainError as error:
                    for row in group:
                        row.fail(error.message)

    def _customers(self, rows: list[Row], actor: Any) -> dict[int, Customer | None]:
        refs = [parse.text(row.get("customer_ref")) for row in rows]
        names = [parse.text(row.get("customer")) for row in rows]
        by_ref = customers_matching(field="external_ref", keys=refs)
        name_keys = duplicate_keys("name", names)
        by_name = customers_matching(field="name", keys=name_keys)
        ids = {match.pk for match in [*by_ref.values(), *by_name.values()]}
        visible = Customer.objects.visible_to(actor).in_bulk(ids) if ids else {}
        found = {}
        for index, row in enumerate(rows):
            match = by_ref.get(refs[index]) if refs[index] else by_name.get(name_keys[index]) if names[index] else None
            found[row.line] = visible.get(match.pk) if match else None
        return found

    def _users(self, rows: list[Row]) -> dict[str, Any]:
        names = {parse.text(row.get("owner")).lower() for row in rows} - {""}
        if not names:
            return {}
        found = get_user_model().objects.annotate(username_lower=Lower("username")).filter(username_lower__in=names)
        return {user.username_lower: user for user in found}

    def _order(
        self,
        ref: str,
        group: list[Row],
        customers: dict[int, Customer | None],
        contracts: dict[str, Contract],
        products: dict[str, Product],
        users: dict[str, Any],
        context: ImportContext,
    ) -> dict[str, Any] | None:
        """The service's arguments for one order, from its rows; each bad row says why, and
        the other rows of a bad order name it."""
        first = group[0]
        header = {name: parse.text(first.get(name)) for name in HEADER_FIELDS}
        for row in group[1:]:
            differing = [
                name
                for name in HEADER_FIELDS
                if parse.text(row.get(name)) and parse.text(row.get(name)) != header[name]
            ]
            if differing:
                row.fail(
                    _("Differs from row %(line)s, the same order, in: %(fields)s.")
                    % {"line": first.line, "fields": ", ".join(str(self._label(name)) for name in differing)}
                )
        order: dict[str, Any] = {"external_ref": ref, "notes": header["notes"]}
        customer = customers.get(first.line)
        if customer is None:
            first.fail(
                _("No customer %(customer)s that you may see.")
                % {"customer": header["customer_ref"] or header["customer"]}
                if header["customer_ref"] or header["customer"]
                else _("Name the order's customer (its external reference or its name).")
            )
        else:
            order["customer_id"] = customer.pk
            order["customer"] = customer
        for name in ("order_date", "delivered_on"):
            try:
                order[name] = parse.date(first.get(name))
            except ValueError as error:
                first.fail(str(error))
        today = timezone.localdate()
        placed, delivered = order.get("order_date"), order.get("delivered_on")
        if placed and (placed > today or (delivered and not placed <= delivered <= today)):
            first.fail(_("A past order is dated before today and delivered after it was placed."))
        contract = None
        if header["contract"]:
            contract = contracts.get(header["contract"])
            if contract is None:
                first.fail(_("No contract %(number)s that you may see.") % {"number": header["contract"]})
            else:
                order["contract_id"] = contract.pk
        currency = CURRENCY_NAMES.get(header["currency"].upper(), header["currency"].upper())
        order["currency"] = currency or (contract.currency if contract else settings.DEFAULT_CURRENCY)
        if header["owner"] and context.keep_history:
            owner = users.get(header["owner"].lower())
            if owner is None or not owner.is_active:
                first.fail(_("%(name)s is not an active user.") % {"name": header["owner"]})
            order["owner"] = owner
        lines = []
        for row in group:
            line = self._line(row, products, order["currency"])
            if line is not None:
                lines.append(line)
        bad = [row.line for row in group if row.action == ERROR]
        if bad:
            for row in group:
                if row.action != ERROR:
                    row.fail(
                        _("Order %(ref)s is not imported: row %(line)s has errors.") % {"ref": ref, "line": bad[0]}
                    )
            return None
        order["lines"] = lines
        order["total"] = sum(
            (services.line_total(line["quantity"], line["unit_price"], line["discount_percent"]) for line in lines),
            Decimal(0),
        )
        order["contract"] = contract
        return order

    def _label(self, name: str) -> Any:
        return next(column.label for column in self.columns if column.name == name)

    def _line(self, row: Row, products: dict[str, Product], currency: str) -> dict[str, Any] | None:
        sku = parse.text(row.get("sku"))
        product = products.get(sku)
        if product is None:
            row.fail(
                _("No product with SKU %(sku)s.") % {"sku": sku} if sku else _("Name the line's product by its SKU.")
            )
        elif product.currency != currency:
            row.fail(
                _("%(product)s is priced in %(product_currency)s, the order in %(currency)s.")
                % {"product": product, "product_currency": product.currency, "currency": currency}
            )
        values: dict[str, Any] = {"product": product}
        for name in ("quantity", "unit_price", "discount_percent"):
            try:
                values[name] = parse.amount(row.get(name))
            except ValueError as error:
                row.fail(str(error))
        quantity, price = values.get("quantity"), values.get("unit_price")
        discount = values.get("discount_percent") or Decimal(0)
        values["discount_percent"] = discount
        if "quantity" in values and (quantity is None or quantity <= 0):
            row.fail(_("Quantities must be above zero."))
        if "unit_price" in values and (price is None or price < 0):
            row.fail(_("Give the unit price it was sold at (zero or more)."))
        if not Decimal(0) <= discount <= Decimal(100):
            row.fail(_("Discounts are between 0 and 100 percent."))
        return None if row.action == ERROR else values

    def _fit(self, orders: list[tuple[list[Row], dict[str, Any]]], context: ImportContext) -> None:
        """Each order against a contract checked as the service will, with the file's earlier
        orders on the same contract counted in (the run remembers them across batches, in cents)."""
        for group, order in orders:
            contract = order.pop("contract")
            customer = order.pop("customer")
            total = order.pop("total")
            if contract is not None:
                # A commit finds the earlier batches' orders in the database; a dry run remembers them.
                planned = {} if context.write else context.seen.setdefault("contract-cents", {})
                earlier = Decimal(planned.get(contract.number, 0)) / 100
                try:
                    selectors.order_contract_fit(
                        contract=contract,
                        customer=customer,
                        order_date=order["order_date"],
                        currency=order["currency"],
                        total=total,
                        planned=earlier,
                    )
                except DomainError as error:
                    for row in group:
                        row.fail(error.message)
                    continue
                planned[contract.number] = int((earlier + total) * 100)
            count = len(group)
            for index, row in enumerate(group, start=1):
                row.decide(
                    CREATE,
                    _("Order %(ref)s, %(total)s %(currency)s: line %(index)s of %(count)s.")
                    % {
                        "ref": order["external_ref"],
                        "total": total,
                        "currency": order["currency"],
                        "index": index,
                        "count": count,
                    }
                    if index == 1
                    else _("Order %(ref)s: line %(index)s of %(count)s.")
                    % {"ref": order["external_ref"], "index": index, "count": count},
                )
