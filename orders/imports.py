"""What the orders app can import: the product catalog (by SKU)."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.exceptions import DomainError
from crm.core.imports import values as parse
from crm.core.imports.registry import CREATE, SKIP, UPDATE, Column, ImportContext, Importer, Row, importer_register
from crm.core.imports.rows import RowFormMixin, form_errors, share_fields
from orders import services
from orders.forms import ProductForm
from orders.models import Product


@share_fields
class ProductRowForm(RowFormMixin, ProductForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.ModelForm.__init__(self, *args, **kwargs)


class ProductImporter(Importer):
    kind = "products"
    label = gettext_lazy("Products")
    permission = "orders.add_product"
    columns = (
        Column(
            "sku",
            gettext_lazy("SKU"),
            ["item code", "product code", "code", "货号", "编码", "产品编码", "物料编码"],
            required=True,
        ),
        Column(
            "name", gettext_lazy("name"), ["product", "product name", "产品", "产品名称", "名称", "品名"], required=True
        ),
        Column("unit_price", gettext_lazy("unit price"), ["price", "单价", "价格"], required=True),
        Column("currency", gettext_lazy("currency"), ["币种", "货币"]),
        Column("is_active", gettext_lazy("active"), ["在售", "启用"]),
        Column("description", gettext_lazy("description"), ["描述", "说明"]),
    )

    def process(self, rows: list[Row], context: ImportContext) -> None:
        skus = {parse.text(row.get("sku")) for row in rows} - {""}
        existing = {product.sku: product for product in Product.objects.filter(sku__in=skus).only("id", "sku", "name")}
        for row in rows:
            data: dict[str, Any] = {name: parse.text(row.get(name)) for name in ("sku", "name", "description")}
            data["currency"] = parse.text(row.get("currency")).upper() or "CNY"
            data["currency"] = {"RMB": "CNY", "¥": "CNY", "人民币": "CNY"}.get(data["currency"], data["currency"])
            try:
                data["unit_price"] = parse.amount(row.get("unit_price"))
                data["is_active"] = parse.boolean(row.get("is_active")) if parse.text(row.get("is_active")) else True
            except ValueError as error:
                row.fail(str(error))
                continue
            form = ProductRowForm(data={**data, "is_active": "on" if data["is_active"] else ""})
            if not form.is_valid():
                row.fail(form_errors(form))
                continue
            row.data = dict(form.cleaned_data)
            earlier = context.seen_before("sku", row.data["sku"], row.line)
            match = existing.get(row.data["sku"])
            if earlier is not None:
                row.decide(SKIP, _("The same SKU as row %(line)s of this file.") % {"line": earlier})
            elif match is None:
                row.decide(CREATE)
            elif context.policy == UPDATE:
                row.data["pk"] = match.pk
                row.decide(UPDATE, _("Updates %(name)s.") % {"name": str(match)})
            else:
                row.decide(SKIP, _("A product with this SKU already exists: %(name)s.") % {"name": str(match)})
        if not context.write:
            return
        for row in rows:
            values = {name: value for name, value in row.data.items() if name != "pk"}
            try:
                if row.action == CREATE:
                    services.product_create(actor=context.actor, **values)
                elif row.action == UPDATE:
                    services.product_update(actor=context.actor, product_id=row.data["pk"], **values)
            except DomainError as error:
                row.fail(error.message)


def register() -> None:
    importer_register(ProductImporter())
