from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DeleteView, DetailView, FormView, ListView, UpdateView

from crm.core.exceptions import DomainError
from crm.core.masking import masker_for
from crm.core.querystring import parse_id
from crm.core.views import (
    FilteredListMixin,
    ServiceDeleteMixin,
    ServiceFormMixin,
    VisibleQuerysetMixin,
    csv_response,
    domain_error_to_form,
)
from customers import selectors, services
from customers.filters import ContactFilter, CustomerFilter
from customers.forms import ContactForm, CustomerForm, InteractionForm, ReassignForm
from customers.models import Contact, Customer, Interaction
from customers.permissions import can_reassign


class CustomerListView(FilteredListMixin, ListView):
    model = Customer
    filterset_class = CustomerFilter

    def base_queryset(self):
        return selectors.customer_list(user=self.request.user)


class CustomerExportView(CustomerListView):
    """The current filtered list as CSV, masked as on the page."""

    def get(self, request, *args, **kwargs):
        masker = masker_for(request.user)
        customers = self.get_queryset().iterator(chunk_size=2000)
        header = [_("Name"), _("Kind"), _("Status"), _("Industry"), _("Tier")]
        header += [_("E-mail"), _("Phone"), _("Owner"), _("Created")]
        rows = (
            [
                masker.text(customer.name),
                customer.get_kind_display(),
                customer.get_status_display(),
                customer.get_industry_display(),
                customer.get_tier_display(),
                masker.email(customer.email),
                masker.phone(customer.phone),
                customer.owner.get_username(),
                timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for customer in customers
        )
        return csv_response(f"customers-{timezone.localdate():%Y%m%d}.csv", header, rows)


class CustomerDetailView(VisibleQuerysetMixin, DetailView):
    model = Customer

    def get_queryset(self):
        return super().get_queryset().select_related("owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(selectors.customer_detail_context(customer=self.object, user=user))
        context["can_change"] = Customer.objects.visible_to(user, "change").filter(pk=self.object.pk).exists()
        context["can_delete"] = user.has_perm("customers.delete_customer") and context["can_change"]
        context["can_reassign"] = can_reassign(user)
        if user.has_perm("customers.add_interaction"):
            context["interaction_form"] = InteractionForm(
                customer=self.object,
                user=user,
                initial={"occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
            )
        return context


class CustomerCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Customer
    form_class = CustomerForm
    permission_required = "customers.add_customer"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Created customer %(object)s.")

    def get_extra_form_kwargs(self):
        return {"user": self.request.user}

    def perform(self, form):
        return services.customer_create(actor=self.request.user, **form.cleaned_data)


class CustomerUpdateView(VisibleQuerysetMixin, ServiceFormMixin, UpdateView):
    model = Customer
    form_class = CustomerForm
    visibility_action = "change"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Saved %(object)s.")

    def get_extra_form_kwargs(self):
        return {"user": self.request.user}

    def perform(self, form):
        return services.customer_update(actor=self.request.user, customer_id=self.object.pk, **form.cleaned_data)


class CustomerDeleteView(VisibleQuerysetMixin, ServiceDeleteMixin, DeleteView):
    model = Customer
    visibility_action = "delete"
    permission_required = "customers.delete_customer"
    success_url = reverse_lazy("customers:customer_list")

    def perform(self):
        services.customer_delete(actor=self.request.user, customer_id=self.object.pk)


class CustomerReassignView(PermissionRequiredMixin, FormView):
    """A manager gives one customer (or the checked ones from the list) to another owner."""

    permission_required = "customers.reassign_customer"
    form_class = ReassignForm
    template_name = "customers/customer_reassign.html"

    def selected_customers(self):
        ids = self.request.POST.getlist("customer") or self.request.GET.getlist("customer")
        ids = [number for number in map(parse_id, ids) if number is not None]
        return selectors.customer_list(user=self.request.user).filter(pk__in=ids)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customers"] = self.selected_customers()
        return context

    def form_valid(self, form):
        customers = list(self.selected_customers().values_list("pk", flat=True))
        if not customers:
            form.add_error(None, _("Choose at least one customer."))
            return self.form_invalid(form)
        try:
            moved = services.customer_reassign(
                actor=self.request.user, customer_ids=customers, new_owner=form.cleaned_data["owner"]
            )
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("%(count)d customer(s) reassigned.") % {"count": moved})
        if len(customers) == 1:
            return redirect("customers:customer_detail", pk=customers[0])
        return redirect("customers:customer_list")


class ContactListView(FilteredListMixin, ListView):
    model = Contact
    filterset_class = ContactFilter

    def base_queryset(self):
        return selectors.contact_list(user=self.request.user)


class ContactCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Contact
    form_class = ContactForm
    permission_required = "customers.add_contact"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Added contact %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        self.customer = selectors.customer_get(user=request.user, pk=kwargs["customer_pk"], action="change")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.customer
        return context

    def perform(self, form):
        return services.contact_create(actor=self.request.user, customer_id=self.customer.pk, **form.cleaned_data)


class ContactUpdateView(VisibleQuerysetMixin, ServiceFormMixin, UpdateView):
    model = Contact
    form_class = ContactForm
    visibility_action = "change"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Saved contact %(object)s.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.object.customer
        return context

    def perform(self, form):
        return services.contact_update(actor=self.request.user, contact_id=self.object.pk, **form.cleaned_data)


class ContactDeleteView(VisibleQuerysetMixin, ServiceDeleteMixin, DeleteView):
    model = Contact
    visibility_action = "delete"
    permission_required = "customers.delete_contact"

    def get_success_url(self):
        return reverse("customers:customer_detail", args=[self.object.customer_id])

    def perform(self):
        services.contact_delete(actor=self.request.user, contact_id=self.object.pk)


class InteractionCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Interaction
    form_class = InteractionForm
    permission_required = "customers.add_interaction"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Added to the timeline: %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        self.customer = selectors.customer_get(user=request.user, pk=kwargs["customer_pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_extra_form_kwargs(self):
        return {"customer": self.customer, "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.customer
        return context

    def perform(self, form):
        return services.interaction_create(actor=self.request.user, customer_id=self.customer.pk, **form.cleaned_data)


class InteractionDeleteView(VisibleQuerysetMixin, ServiceDeleteMixin, DeleteView):
    model = Interaction
    visibility_action = "delete"
    permission_required = "customers.delete_interaction"

    def get_success_url(self):
        return reverse("customers:customer_detail", args=[self.object.customer_id])

    def perform(self):
        services.interaction_delete(actor=self.request.user, interaction_id=self.object.pk)
