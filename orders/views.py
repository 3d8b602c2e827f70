from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DetailView, ListView, UpdateView, View

from contracts.choices import ContractStatus
from contracts.selectors import contract_get
from crm.core.exceptions import DomainError
from crm.core.masking import masker_for
from crm.core.querystring import query_id, query_int
from crm.core.views import (
    FilteredListMixin,
    ServiceFormMixin,
    StepView,
    VisibleQuerysetMixin,
    csv_response,
    domain_error_to_form,
)
from crm.core.workflow import buttons as workflow_buttons
from customers.selectors import customer_get
from orders import selectors, services
from orders.choices import OrderStatus
from orders.filters import OrderFilter, ProductFilter
from orders.forms import OrderForm, OrderLineFormSet, ProductForm, line_form
from orders.models import Order, Product

# --- catalog -------------------------------------------------------------------------------


class ProductListView(FilteredListMixin, ListView):
    model = Product
    filterset_class = ProductFilter

    def base_queryset(self):
        return selectors.product_list(user=self.request.user)


class ProductCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Product
    form_class = ProductForm
    permission_required = "orders.add_product"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Added product %(object)s.")

    def perform(self, form):
        return services.product_create(actor=self.request.user, **form.cleaned_data)

    success_url = reverse_lazy("orders:product_list")


class ProductUpdateView(PermissionRequiredMixin, VisibleQuerysetMixin, ServiceFormMixin, UpdateView):
    model = Product
    form_class = ProductForm
    permission_required = "orders.change_product"
    visibility_action = "change"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Saved product %(object)s.")

    def perform(self, form):
        return services.product_update(actor=self.request.user, product_id=self.object.pk, **form.cleaned_data)

    success_url = reverse_lazy("orders:product_list")


# --- orders: lists -------------------------------------------------------------------------


class OrderListView(FilteredListMixin, ListView):
    model = Order
    filterset_class = OrderFilter

    def base_queryset(self):
        return selectors.order_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = getattr(self.filterset.form, "cleaned_data", {})
        context.update(selectors.order_list_scope(user=self.request.user, data=data))
        return context


class OrderExportView(OrderListView):
    """The current filtered list as CSV."""

    def get(self, request, *args, **kwargs):
        masker = masker_for(request.user)
        orders = self.get_queryset().iterator(chunk_size=2000)
        header = [_("Number"), _("Order date"), _("Customer"), _("Contract"), _("Status")]
        header += [_("Total"), _("Currency"), _("Owner"), _("Created")]
        rows = (
            [
                order.number,
                order.order_date.isoformat(),
                masker.text(order.customer.name),
                order.contract.number if order.contract else "",
                order.get_status_display(),
                str(order.total),
                order.currency,
                order.owner.get_username(),
                timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for order in orders
        )
        return csv_response(f"orders-{timezone.localdate():%Y%m%d}.csv", header, rows)


class ContractOrdersView(View):
    """The "Orders" card of a contract's page (fetched with htmx): what is ordered and left,
    and the latest orders the user may see (`?contract=<id>`)."""

    def get(self, request):
        contract = contract_get(user=request.user, pk=query_id(request, "contract") or 0)
        context = {
            "contract": contract,
            "orders": selectors.contract_orders(user=request.user, contract=contract),
            "amounts": selectors.contract_order_amounts(contract=contract),
            "can_order": contract.status == ContractStatus.ACTIVE and request.user.has_perm("orders.add_order"),
        }
        return render(request, "orders/_contract_orders.html", context)


# --- orders: one order ---------------------------------------------------------------------


class OrderDetailView(VisibleQuerysetMixin, DetailView):
    model = Order

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "contract", "owner", "submitted_by", "approved_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order, user = self.object, self.request.user
        context.update(selectors.order_detail_context(order=order))
        context["actions"] = workflow_buttons(order, user)
        context["can_edit"] = selectors.order_can_edit(order=order, user=user)
        return context


class OrderFormMixin(ServiceFormMixin):
    """The header form plus the lines formset; one service call saves both or nothing."""

    model = Order
    form_class = OrderForm
    template_name = "orders/order_form.html"

    def get_extra_form_kwargs(self):
        return {"user": self.request.user, "customer": self.customer}

    def get_formset(self):
        if not hasattr(self, "formset"):
            data = self.request.POST if self.request.method == "POST" else None
            self.formset = OrderLineFormSet(data, order=self.object)
        return self.formset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.customer
        context["formset"] = self.get_formset()
        context["lines_text"] = {
            "remaining": _("The contract has %(remaining)s left."),
            "exceeds": _("The order total is more than the contract has left (%(remaining)s)."),
            "currency": _("priced in %(currency)s"),
        }
        return context

    def lines_valid(self):
        return self.get_formset().is_valid()

    def form_valid(self, form):
        if not self.lines_valid():
            return self.form_invalid(form)
        try:
            self.object = self.perform(form, self.get_formset().lines())
        except DomainError as error:
            if error.field == "lines":
                self.get_formset().non_form_errors().append(error.message)
            else:
                domain_error_to_form(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"object": self.object})
        return redirect(self.object.get_absolute_url())

    def form_invalid(self, form):
        self.lines_valid()  # so the rows show their own errors too
        return super().form_invalid(form)

    def header_values(self, form):
        values = dict(form.cleaned_data)
        contract = values.pop("contract")
        values["contract_id"] = contract.pk if contract else None
        return values


class OrderCreateView(PermissionRequiredMixin, OrderFormMixin, CreateView):
    """Started from a customer's page (`?customer=<id>`) or a contract's (`?contract=<id>`)."""

    permission_required = "orders.add_order"
    success_message = gettext_lazy("Placed order %(object)s as a draft.")

    def dispatch(self, request, *args, **kwargs):
        contract_id, customer_id = query_id(request, "contract"), query_id(request, "customer")
        self.contract = None
        if contract_id is not None:
            self.contract = contract_get(user=request.user, pk=contract_id)
            self.customer = customer_get(user=request.user, pk=self.contract.customer_id)
        elif customer_id is not None:
            self.customer = customer_get(user=request.user, pk=customer_id)
        else:
            messages.info(request, _("Open the customer or the contract the order is for, then choose “New order”."))
            return redirect("customers:customer_list")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        initial = {"order_date": timezone.localdate()}
        if self.contract is not None and self.contract.status == ContractStatus.ACTIVE:
            initial.update(contract=self.contract.pk, currency=self.contract.currency)
        return initial

    def get(self, request, *args, **kwargs):
        if self.contract is not None and self.contract.status != ContractStatus.ACTIVE:
            messages.warning(
                request,
                _("Contract %(number)s is %(status)s; orders need an active contract.")
                % {"number": self.contract.number, "status": self.contract.get_status_display().lower()},
            )
        return super().get(request, *args, **kwargs)

    def perform(self, form, lines):
        return services.order_create(
            actor=self.request.user, customer_id=self.customer.pk, lines=lines, **self.header_values(form)
        )


class OrderUpdateView(VisibleQuerysetMixin, OrderFormMixin, UpdateView):
    """Only a draft is edited; existing lines keep the price they were added at."""

    visibility_action = "change"
    success_message = gettext_lazy("Saved %(object)s.")

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "contract")

    def get_object(self, queryset=None):
        if getattr(self, "_order", None) is None:
            self._order = super().get_object(queryset)
        return self._order

    def dispatch(self, request, *args, **kwargs):
        self.object = self.get_object()
        self.customer = self.object.customer
        if self.object.status != OrderStatus.DRAFT:
            messages.error(request, _("Only a draft order can be edited."))
            return redirect(self.object.get_absolute_url())
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form, lines):
        return services.order_update(
            actor=self.request.user, order_id=self.object.pk, lines=lines, **self.header_values(form)
        )


class OrderLineFormView(PermissionRequiredMixin, View):
    """One empty line row (`?index=<n>`) for the "Add line" button."""

    permission_required = "orders.add_order"

    def get(self, request):
        form = line_form(index=query_int(request, "index", default=0, maximum=999))
        return render(request, "orders/_order_line_row.html", {"line": form})


# --- orders: workflow steps ----------------------------------------------------------------


class OrderSubmitView(StepView):
    """The submit step's page says whether a manager must approve; the message says what happened."""

    template_name = "orders/order_submit.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["approval_reasons"] = selectors.order_approval_reasons(self.object)
        return context

    def perform(self, form):
        order = super().perform(form)
        if order.status == OrderStatus.APPROVED:
            messages.success(self.request, _("%(object)s was approved.") % {"object": order})
        else:
            messages.success(self.request, _("%(object)s waits for a manager's approval.") % {"object": order})
