import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView, View

from contracts.choices import ContractStatus
from contracts.selectors import contract_get
from crm.core.exceptions import DomainError
from crm.core.masking import REVEALED, Masker, masker_for
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
from orders.choices import OrderStatus, QuoteStatus
from orders.filters import OrderFilter, ProductFilter, QuoteFilter
from orders.forms import (
    OrderForm,
    OrderLineFormSet,
    ProductForm,
    QuoteAcceptForm,
    QuoteDeclineForm,
    QuoteForm,
    QuoteLineFormSet,
    line_form,
    quote_line_form,
)
from orders.models import Order, Product, Quote
from orders.pdf import quote_pdf

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
            initial = self.initial_lines() if data is None and self.object is None else None
            if initial:
                self.formset = OrderLineFormSet(data, order=self.object, initial=initial)
            else:
                self.formset = OrderLineFormSet(data, order=self.object)
        return self.formset

    def initial_lines(self):
        return []

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

    def initial_lines(self):
        """An order against a contract drafted from a quote starts from the quote's lines."""
        if self.contract is None or self.contract.status != ContractStatus.ACTIVE:
            return []
        return selectors.quote_order_initial_lines(contract=self.contract)

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


# --- quotes --------------------------------------------------------------------------------


class QuoteListView(FilteredListMixin, ListView):
    model = Quote
    filterset_class = QuoteFilter

    def base_queryset(self):
        return selectors.quote_list(user=self.request.user)


class OpportunityQuotesView(View):
    """The "Quotes" card of an opportunity's page (fetched with htmx, `?opportunity=<id>`):
    its quotes the user may see, and "New quote" for whoever may write one."""

    def get(self, request):
        opportunity = selectors.quote_opportunity_get(
            user=request.user, pk=query_id(request, "opportunity") or 0, action="view"
        )
        context = {
            "opportunity": opportunity,
            "quotes": selectors.opportunity_quotes(user=request.user, opportunity=opportunity),
            "can_quote": opportunity.is_open
            and request.user.has_perm("orders.add_quote")
            and selectors.opportunity_may_quote(user=request.user, opportunity=opportunity),
        }
        return render(request, "orders/_opportunity_quotes.html", context)


class QuoteDetailView(VisibleQuerysetMixin, DetailView):
    model = Quote

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("customer", "opportunity", "owner", "submitted_by", "approved_by", "contract", "supersedes")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        quote, user = self.object, self.request.user
        context.update(selectors.quote_detail_context(quote=quote))
        context["actions"] = workflow_buttons(quote, user)
        context["can_edit"] = selectors.quote_can_edit(quote=quote, user=user)
        context["can_revoke"] = Quote.objects.visible_to(user, "change").filter(pk=quote.pk).exists()
        return context


class QuotePdfView(VisibleQuerysetMixin, DetailView):
    """The quote's PDF as the customer receives it, masked as the reader's pages are."""

    model = Quote

    def render_to_response(self, context):
        return _pdf_response(self.object, masker_for(self.request.user))


def _pdf_response(quote: Quote, masker: Masker = REVEALED) -> HttpResponse:
    response = HttpResponse(quote_pdf(quote, masker=masker), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.pdf_filename}"'
    return response


class QuoteFormMixin(OrderFormMixin):
    """The quote's header plus its lines; one service call saves both or nothing."""

    model = Quote
    form_class = QuoteForm
    template_name = "orders/quote_form.html"

    def get_extra_form_kwargs(self):
        return {}

    def get_formset(self):
        if not hasattr(self, "formset"):
            data = self.request.POST if self.request.method == "POST" else None
            self.formset = QuoteLineFormSet(data, quote=self.object)
        return self.formset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.opportunity
        context["lines_text"] = {"currency": _("priced in %(currency)s")}
        return context

    def header_values(self, form):
        values = dict(form.cleaned_data)
        values["terms"] = values.get("terms") or ""
        return values


class QuoteCreateView(PermissionRequiredMixin, QuoteFormMixin, CreateView):
    """Started from an opportunity's page (`?opportunity=<id>`)."""

    permission_required = "orders.add_quote"
    success_message = gettext_lazy("Drafted quote %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        opportunity_id = query_id(request, "opportunity")
        if opportunity_id is None:
            messages.info(request, _("Open the opportunity the quote is for, then choose “New quote”."))
            return redirect("orders:quote_list")
        self.opportunity = selectors.quote_opportunity_get(user=request.user, pk=opportunity_id, action="change")
        self.customer = self.opportunity.customer
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {
            "title": self.opportunity.title,
            "currency": self.opportunity.currency,
            "language": "zh-hans" if self.request.LANGUAGE_CODE.startswith("zh") else "en",
            "valid_until": timezone.localdate() + datetime.timedelta(days=settings.QUOTE_VALID_DAYS),
        }

    def perform(self, form, lines):
        values = self.header_values(form)
        values["terms"] = values["terms"] or None  # empty: the language's default terms
        return services.quote_create(actor=self.request.user, opportunity_id=self.opportunity.pk, lines=lines, **values)


class QuoteUpdateView(VisibleQuerysetMixin, QuoteFormMixin, UpdateView):
    """Only a draft is edited; existing lines keep the price they were added at."""

    visibility_action = "change"
    success_message = gettext_lazy("Saved %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        self.object = self.get_object()
        self.opportunity = self.object.opportunity
        self.customer = self.object.customer
        if self.object.status != QuoteStatus.DRAFT:
            messages.error(request, _("Only a draft quote can be edited."))
            return redirect(self.object.get_absolute_url())
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, queryset=None):
        if getattr(self, "_quote", None) is None:
            self._quote = super().get_object(queryset)
        return self._quote

    def perform(self, form, lines):
        return services.quote_update(
            actor=self.request.user, quote_id=self.object.pk, lines=lines, **self.header_values(form)
        )


class QuoteLineFormView(PermissionRequiredMixin, View):
    """One empty quote line row (`?index=<n>`) for the "Add line" button."""

    permission_required = "orders.add_quote"

    def get(self, request):
        form = quote_line_form(index=query_int(request, "index", default=0, maximum=999))
        return render(request, "orders/_quote_line_row.html", {"line": form})


class QuoteSendView(StepView):
    """Sending: which contact it goes to; afterwards the link is shown once."""

    template_name = "orders/quote_send.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "quote": self.object, "user": self.request.user}

    def perform(self, form):
        quote, url = super().perform(form)
        anchor = format_html("<a href='{url}' data-testid='quote-url'>{url}</a>", url=url)
        messages.success(
            self.request,
            format_html(
                _("{quote} was e-mailed to {email} as a PDF. Its link works once: {link}"),
                quote=quote,
                email=masker_for(self.request.user).email(quote.sent_to),
                link=anchor,
            ),
        )
        return quote


class QuoteReviseView(StepView):
    """Revising opens the new draft revision."""

    def perform(self, form):
        self.revision = super().perform(form)
        messages.success(
            self.request,
            _("Drafted %(object)s; sending it supersedes %(old)s.") % {"object": self.revision, "old": self.object},
        )
        return self.revision

    def get_success_url(self):
        return self.revision.get_absolute_url()


class QuoteLinkRevokeView(PermissionRequiredMixin, View):
    permission_required = "orders.change_quote"

    def post(self, request, pk, link_pk):
        quote = selectors.quote_get(user=request.user, pk=pk, action="change")
        try:
            services.quote_link_revoke(actor=request.user, quote_id=quote.pk, link_id=link_pk)
            messages.success(request, _("The quote link was withdrawn."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(quote.get_absolute_url())


# --- quotes: the customer's pages (no login) -----------------------------------------------

QUOTE_SESSION_KEY = "orders_quote_link"


def _quote_link_gone(request, message):
    return render(request, "orders/quote_public_done.html", {"error": message}, status=410)


@method_decorator(login_not_required, name="dispatch")
class QuotePublicStartView(View):
    """The address in the customer's e-mail: the token is checked, exchanged for a short
    session, and the customer is sent on to a page whose address carries no token."""

    http_method_names = ["get"]

    def get(self, request, token):
        try:
            link = selectors.quote_link_get(token)
        except DomainError as error:
            return _quote_link_gone(request, error.message)
        until = timezone.now() + datetime.timedelta(minutes=settings.SIGNING_SESSION_MINUTES)
        request.session[QUOTE_SESSION_KEY] = {"link": link.pk, "until": until.isoformat()}
        return redirect("orders:quote_public")


class QuotePublicMixin:
    """The link held in the session (set by QuotePublicStartView); every answer is no-store."""

    def dispatch(self, request, *args, **kwargs):
        held = request.session.get(QUOTE_SESSION_KEY) or {}
        until = parse_datetime(str(held.get("until", "")))
        if not held.get("link") or until is None or until <= timezone.now():
            request.session.pop(QUOTE_SESSION_KEY, None)
            return self._no_store(
                _quote_link_gone(
                    request, _("This page has timed out or was not opened from your link; open the link again.")
                )
            )
        try:
            self.link = selectors.quote_link_by_id(held["link"])
        except DomainError as error:
            request.session.pop(QUOTE_SESSION_KEY, None)
            return self._no_store(_quote_link_gone(request, error.message))
        self.quote = self.link.quote
        with translation.override(self.quote.language):  # the customer reads the quote's language
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
        return self._no_store(response)

    @staticmethod
    def _no_store(response):
        response["Cache-Control"] = "no-store"
        return response


@method_decorator(login_not_required, name="dispatch")
class QuotePublicView(QuotePublicMixin, FormView):
    """The customer's page: the quote read-only, its PDF, and accept (name and a tick) or decline."""

    form_class = QuoteAcceptForm
    template_name = "orders/quote_public.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("decline_form", QuoteDeclineForm())
        context.update(
            quote=self.quote,
            lines=selectors.quote_lines(self.quote),
            company_name=settings.COMPANY_NAME,
            masker=REVEALED,  # the customer reads the quote made for them
        )
        return context

    def form_valid(self, form):
        try:
            quote = services.quote_accept(link_id=self.link.pk, **form.cleaned_data)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        self.request.session.pop(QUOTE_SESSION_KEY, None)
        return render(self.request, "orders/quote_public_done.html", {"quote": quote, "accepted": True})


@method_decorator(login_not_required, name="dispatch")
class QuotePublicDeclineView(QuotePublicView):
    form_class = QuoteDeclineForm
    http_method_names = ["post"]

    def get_context_data(self, **kwargs):
        form = kwargs.pop("form", None) or self.get_form()
        return super().get_context_data(form=QuoteAcceptForm(), decline_form=form, **kwargs)

    def form_valid(self, form):
        try:
            quote = services.quote_decline(link_id=self.link.pk, **form.cleaned_data)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        self.request.session.pop(QUOTE_SESSION_KEY, None)
        return render(self.request, "orders/quote_public_done.html", {"quote": quote, "accepted": False})


@method_decorator(login_not_required, name="dispatch")
class QuotePublicPdfView(QuotePublicMixin, View):
    http_method_names = ["get"]

    def get(self, request):
        return _pdf_response(self.quote)
