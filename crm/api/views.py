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
from crm.api.base import PROBLEMS, Read, ResourceViewSet, Write, documented
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

    def perform_update(self, obj, data):
        return customer_services.customer_update(actor=self.request.user, customer_id=obj.pk, **data)


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

    def perform_update(self, obj, data):
        return customer_services.contact_update(actor=self.request.user, contact_id=obj.pk, **data)


@documented
class InteractionViewSet(Read, ResourceViewSet):
    model = Interaction
    serializer_class = s.InteractionSerializer
    related = ("author",)


@documented
class OpportunityViewSet(Read, ResourceViewSet):
    model = Opportunity
    serializer_class = s.OpportunitySerializer
    filterset_class = OpportunityFilter
    workflow = customers.workflow.WORKFLOW
    related = ("owner",)

    def base_queryset(self):
        return customer_selectors.opportunity_list(user=self.request.user)


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

    def perform_update(self, obj, data):
        return contract_services.contract_update(actor=self.request.user, contract_id=obj.pk, **data)


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

    def perform_update(self, obj, data):
        return order_services.order_update(actor=self.request.user, order_id=obj.pk, **_order_values(data))


@documented
class QuoteViewSet(Read, ResourceViewSet):
    model = Quote
    serializer_class = s.QuoteSerializer
    filterset_class = QuoteFilter
    workflow = orders.workflow.QUOTE_WORKFLOW
    related = ("owner",)
    prefetch = ("lines",)

    def base_queryset(self):
        return order_selectors.quote_list(user=self.request.user)


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

    def perform_update(self, obj, data):
        return ticket_services.ticket_update(actor=self.request.user, ticket_id=obj.pk, **data)

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
