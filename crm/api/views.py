"""The resources of /api/v1/: thin viewsets over each app's selectors and services (the
machinery is in crm/api/base.py). Each create and update calls the same service its page
calls, so every rule, permission and audit entry holds at this door too."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

import contracts.workflow
import customers.workflow
import orders.workflow
import service.workflow
from contracts import services as contract_services
from contracts.filters import ContractFilter
from contracts.models import Contract
from contracts.selectors import contract_list
from crm.api import serializers as s
from crm.api.base import PROBLEMS, Create, Read, ResourceViewSet, Write, documented
from crm.api.filters import InteractionFilter
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.filters import ContactFilter, CustomerFilter, OpportunityFilter
from customers.models import Contact, Customer, Interaction, Opportunity
from orders import selectors as order_selectors
from orders import services as order_services
from orders.filters import OrderFilter, ProductFilter, QuoteFilter
from orders.models import Order, Product, Quote
from service import selectors as ticket_selectors
from service import services as ticket_services
from service.filters import TicketFilter
from service.models import Ticket

User = get_user_model()


@documented
class CustomerViewSet(Read, Write, ResourceViewSet):
    model = Customer
    create_permission = "customers.add_customer"
    serializer_class = s.CustomerSerializer
    create_serializer_class = update_serializer_class = s.CustomerWriteSerializer
    filterset_class = CustomerFilter
    related = ("owner",)

    def base_queryset(self):
        return customer_selectors.customer_list(user=self.request.user)

    def perform_create(self, data):
        return customer_services.customer_create(actor=self.request.user, **data)

    def perform_update(self, obj, data, *, expected_version):
        return customer_services.customer_update(
            actor=self.request.user, customer_id=obj.pk, expected_version=expected_version, **data
        )


@documented
class ContactViewSet(Read, Write, ResourceViewSet):
    model = Contact
    create_permission = "customers.add_contact"
    serializer_class = s.ContactSerializer
    create_serializer_class = s.ContactCreateSerializer
    update_serializer_class = s.ContactWriteSerializer
    filterset_class = ContactFilter

    def base_queryset(self):
        return customer_selectors.contact_list(user=self.request.user)

    def perform_create(self, data):
        data = dict(data)
        customer = customer_selectors.customer_get(user=self.request.user, pk=data.pop("customer"), action="change")
        return customer_services.contact_create(actor=self.request.user, customer_id=customer.pk, **data)

    def perform_update(self, obj, data, *, expected_version):
        return customer_services.contact_update(
            actor=self.request.user, contact_id=obj.pk, expected_version=expected_version, **data
        )


@documented
class InteractionViewSet(Read, Create, ResourceViewSet):
    """The timeline: read, and logged as from the customer's page (no edit: an entry is
    deleted and logged again there)."""

    model = Interaction
    create_permission = "customers.add_interaction"
    serializer_class = s.InteractionSerializer
    create_serializer_class = s.InteractionCreateSerializer
    filterset_class = InteractionFilter
    related = ("author",)

    def perform_create(self, data):
        values = dict(data)
        customer = values.pop("customer")
        return customer_services.interaction_create(actor=self.request.user, customer_id=customer.pk, **values)


@documented
class OpportunityViewSet(Read, Write, ResourceViewSet):
    model = Opportunity
    create_permission = "customers.add_opportunity"
    serializer_class = s.OpportunitySerializer
    create_serializer_class = s.OpportunityCreateSerializer
    update_serializer_class = s.OpportunityWriteSerializer
    filterset_class = OpportunityFilter
    workflow = customers.workflow.WORKFLOW
    related = ("owner",)

    def base_queryset(self):
        return customer_selectors.opportunity_list(user=self.request.user)

    def perform_create(self, data):
        return customer_services.opportunity_create(actor=self.request.user, **data)

    def perform_update(self, obj, data, *, expected_version):
        return customer_services.opportunity_update(
            actor=self.request.user, opportunity_id=obj.pk, expected_version=expected_version, **data
        )


@documented
class ContractViewSet(Read, Write, ResourceViewSet):
    model = Contract
    create_permission = "contracts.add_contract"
    serializer_class = s.ContractSerializer
    create_serializer_class = s.ContractCreateSerializer
    update_serializer_class = s.ContractWriteSerializer
    filterset_class = ContractFilter
    workflow = contracts.workflow.WORKFLOW
    excluded_steps = ("sign",)  # the company signs in the browser: it needs the signatory's password
    related = ("owner",)

    def base_queryset(self):
        return contract_list(user=self.request.user)

    def perform_create(self, data):
        data = dict(data)
        return contract_services.contract_create(
            actor=self.request.user, customer_id=data.pop("customer"), template_id=data.pop("template", None), **data
        )

    def perform_update(self, obj, data, *, expected_version):
        return contract_services.contract_update(
            actor=self.request.user, contract_id=obj.pk, expected_version=expected_version, **data
        )


@documented
class ProductViewSet(Read, ResourceViewSet):
    model = Product
    serializer_class = s.ProductSerializer
    filterset_class = ProductFilter

    def base_queryset(self):
        return order_selectors.product_list(user=self.request.user)


def _order_values(data) -> dict:
    values = dict(data)
    values["contract_id"] = values.pop("contract", None)
    values["lines"] = [dict(line) for line in values["lines"]]
    return values


@documented
class OrderViewSet(Read, Write, ResourceViewSet):
    model = Order
    create_permission = "orders.add_order"
    serializer_class = s.OrderSerializer
    create_serializer_class = s.OrderCreateSerializer
    update_serializer_class = s.OrderWriteSerializer
    filterset_class = OrderFilter
    workflow = orders.workflow.WORKFLOW
    prefetch = ("lines__product",)

    def base_queryset(self):
        return order_selectors.order_list(user=self.request.user)

    def perform_create(self, data):
        values = _order_values(data)
        return order_services.order_create(actor=self.request.user, customer_id=values.pop("customer"), **values)

    def perform_update(self, obj, data, *, expected_version):
        """What a PATCH leaves out stays as it is: the contract, the header's fields and the lines."""
        kept_lines = [
            {
                "id": line.pk,
                "product": line.product,
                "quantity": line.quantity,
                "discount_percent": line.discount_percent,
            }
            for line in obj.lines.select_related("product")
        ]
        kept = {"contract": obj.contract_id, "order_date": obj.order_date, "currency": obj.currency, "notes": obj.notes}
        values = _order_values({**kept, "lines": kept_lines, **data})
        return order_services.order_update(
            actor=self.request.user, order_id=obj.pk, expected_version=expected_version, **values
        )


def _quote_lines(lines) -> list[dict]:
    return [{**line, "tax_rate": line.get("tax_rate")} for line in lines]


@documented
class QuoteViewSet(Read, Write, ResourceViewSet):
    """Draft quotes written as on the quote form: a header and its lines in one call (an
    existing line, named by its id, keeps the price it was added at)."""

    model = Quote
    create_permission = "orders.add_quote"
    serializer_class = s.QuoteSerializer
    create_serializer_class = s.QuoteCreateSerializer
    update_serializer_class = s.QuoteWriteSerializer
    filterset_class = QuoteFilter
    workflow = orders.workflow.QUOTE_WORKFLOW
    related = ("owner",)
    prefetch = ("lines",)

    def base_queryset(self):
        return order_selectors.quote_list(user=self.request.user)

    def perform_create(self, data):
        values = dict(data)
        values["lines"] = _quote_lines(values["lines"])
        values["terms"] = values.get("terms") or None  # empty: the language's default terms, as on the page
        return order_services.quote_create(actor=self.request.user, opportunity_id=values.pop("opportunity"), **values)

    def perform_update(self, obj, data, *, expected_version):
        """What a PATCH leaves out stays as it is: the header's fields and the lines."""
        kept_lines = [
            {"id": line.pk, "product": line.product, "quantity": line.quantity, "description": line.description,
             "discount_percent": line.discount_percent, "tax_rate": line.tax_rate}
            for line in obj.lines.select_related("product")
        ]  # fmt: skip
        values = {
            "title": obj.title, "currency": obj.currency, "language": obj.language,
            "valid_until": obj.valid_until, "terms": obj.terms, "lines": kept_lines,
            **data,
        }  # fmt: skip
        values["lines"] = _quote_lines(values["lines"])
        return order_services.quote_update(
            actor=self.request.user, quote_id=obj.pk, expected_version=expected_version, **values
        )


@documented
class TicketViewSet(Read, Write, ResourceViewSet):
    model = Ticket
    create_permission = "service.add_ticket"
    serializer_class = s.TicketSerializer
    create_serializer_class = s.TicketCreateSerializer
    update_serializer_class = s.TicketWriteSerializer
    filterset_class = TicketFilter
    workflow = service.workflow.WORKFLOW

    def base_queryset(self):
        return ticket_selectors.ticket_list(user=self.request.user)

    def perform_create(self, data):
        values = {"contact": None, **data}
        return ticket_services.ticket_create(actor=self.request.user, **values)

    def perform_update(self, obj, data, *, expected_version):
        return ticket_services.ticket_update(
            actor=self.request.user, ticket_id=obj.pk, expected_version=expected_version, **data
        )

    @extend_schema(request=s.TicketReplySerializer, responses={201: s.TicketEntrySerializer, **PROBLEMS})
    @action(detail=True, methods=["post"], url_path="reply", url_name="reply")
    def reply(self, request, pk=None):
        """A reply the customer gets by e-mail, or (public false) an internal note."""
        ticket = self.get_visible_object()
        if not request.user.has_perm("service.work_ticket"):
            raise PermissionDenied
        serializer = s.TicketReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = ticket_services.ticket_reply_add(actor=request.user, ticket=ticket, **serializer.validated_data)
        data = s.TicketEntrySerializer(entry, context=self.get_serializer_context()).data
        return Response(data, status=201)
