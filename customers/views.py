import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DeleteView, DetailView, FormView, ListView, TemplateView, UpdateView

from crm.core.audit import audit_history
from crm.core.exceptions import DomainError
from crm.core.masking import masker_for
from crm.core.page_extras import CUSTOMER_DETAIL, CUSTOMER_LIST, OPPORTUNITY_DETAIL, columns_for, panels_for
from crm.core.querystring import parse_id, query_id
from crm.core.views import (
    FilteredListMixin,
    ServiceDeleteMixin,
    ServiceFormMixin,
    StepView,
    VisibleQuerysetMixin,
    csv_response,
    domain_error_to_form,
)
from crm.core.workflow import buttons
from customers import selectors, services
from customers.choices import OPEN_STAGES
from customers.filters import BoardFilter, ContactFilter, CustomerFilter, OpportunityFilter
from customers.forms import (
    ActivityCompleteForm,
    ActivityForm,
    ContactForm,
    CustomerForm,
    InteractionForm,
    OpportunityAssignForm,
    OpportunityForm,
    ReassignForm,
)
from customers.models import Activity, Contact, Customer, Interaction, Opportunity
from customers.permissions import can_reassign
from customers.rows import customer_row


class CustomerListView(FilteredListMixin, ListView):
    model = Customer
    filterset_class = CustomerFilter

    def base_queryset(self):
        return selectors.customer_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Columns higher apps add (crm.insight's segment), one query each for the page.
        columns = columns_for(CUSTOMER_LIST)
        customers = list(context["object_list"])
        values = [column.values(self.request.user, [customer.pk for customer in customers]) for column in columns]
        masker = masker_for(self.request.user)
        context["rows"] = [
            customer_row(
                customer,
                masker,
                [(column.key, found.get(customer.pk, "")) for column, found in zip(columns, values, strict=True)],
            )
            for customer in customers
        ]
        context["extra_columns"] = columns
        return context


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
        context["extra_panels"] = panels_for(CUSTOMER_DETAIL, user, self.object)
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


class OwnerChangeView(PermissionRequiredMixin, FormView):
    """A manager gives one record (or the checked ones from the list, `?<param>=<id>` each)
    to another owner, through one service call for all of them."""

    param = context_name = ""  # the chosen records' query parameter, and their name in the template
    detail_url = list_url = ""
    nothing_chosen = done = ""  # messages; `done` takes "%(count)d"

    def selected(self):
        ids = self.request.POST.getlist(self.param) or self.request.GET.getlist(self.param)
        return self.visible().filter(pk__in=[number for number in map(parse_id, ids) if number is not None])

    def visible(self):
        raise NotImplementedError

    def change_owner(self, ids, new_owner) -> int:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context[self.context_name] = self.selected()
        return context

    def form_valid(self, form):
        chosen = list(self.selected().values_list("pk", flat=True))
        if not chosen:
            form.add_error(None, self.nothing_chosen)
            return self.form_invalid(form)
        try:
            moved = self.change_owner(chosen, form.cleaned_data["owner"])
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.done % {"count": moved})
        if len(chosen) == 1:
            return redirect(self.detail_url, pk=chosen[0])
        return redirect(self.list_url)


class CustomerReassignView(OwnerChangeView):
    permission_required = "customers.reassign_customer"
    form_class = ReassignForm
    template_name = "customers/customer_reassign.html"
    param, context_name = "customer", "customers"
    detail_url, list_url = "customers:customer_detail", "customers:customer_list"
    nothing_chosen = gettext_lazy("Choose at least one customer.")
    done = gettext_lazy("%(count)d customer(s) reassigned.")

    def visible(self):
        return selectors.customer_list(user=self.request.user)

    def change_owner(self, ids, new_owner) -> int:
        return services.customer_reassign(actor=self.request.user, customer_ids=ids, new_owner=new_owner)


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


# --- opportunities ---------------------------------------------------------------------------


class OpportunityListView(PermissionRequiredMixin, FilteredListMixin, ListView):
    model = Opportunity
    filterset_class = OpportunityFilter
    permission_required = "customers.view_opportunity"

    def base_queryset(self):
        return selectors.opportunity_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["stale_before"] = selectors.stale_before()
        return context


class OpportunityBoardView(PermissionRequiredMixin, TemplateView):
    """The open stages as columns: each one's count and weighted total, its top cards (the
    ones closing soonest), a link to the rest in the list, drag and drop between columns and
    a "move to" form on every card for keyboards and browsers without JavaScript."""

    permission_required = "customers.view_opportunity"
    template_name = "customers/opportunity_board.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        board_filter = BoardFilter(self.request.GET or None, Opportunity.objects.visible_to(user), request=self.request)
        context["filter"] = board_filter
        context["columns"] = selectors.opportunity_board(queryset=board_filter.qs)
        context["stale_before"] = selectors.stale_before()
        context["stale_days"] = settings.OPPORTUNITY_STALE_DAYS
        context["stages"] = [(stage.value, stage.label) for stage in OPEN_STAGES]
        context["can_move"] = user.has_perm("customers.change_opportunity")
        context["can_plan"] = user.has_perm("customers.add_activity")
        query = self.request.GET.copy()
        query.pop("page", None)
        context["list_query"] = query.urlencode()
        return context


class OpportunityDetailView(VisibleQuerysetMixin, DetailView):
    model = Opportunity

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "owner", "lost_reason")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        opportunity = self.object
        context.update(selectors.opportunity_detail_context(opportunity=opportunity, user=user))
        context["extra_panels"] = panels_for(OPPORTUNITY_DETAIL, user, opportunity)
        can_change = Opportunity.objects.visible_to(user, "change").filter(pk=opportunity.pk).exists()
        context["can_change"] = can_change
        context["actions"] = buttons(opportunity, user)
        context["can_assign"] = user.has_perm("customers.assign_opportunity")
        context["stale"] = opportunity.is_stale()
        if user.has_perm("customers.add_activity"):
            suggestion = selectors.next_step_suggestion(opportunity=opportunity, user=user)
            context["next_step_suggestion"] = suggestion
            context["activity_form"] = ActivityForm(
                customer=opportunity.customer,
                user=user,
                initial={
                    "opportunity": opportunity.pk,
                    "subject": suggestion or opportunity.next_step,
                    "due_at": selectors.next_working_hour().strftime("%Y-%m-%dT%H:%M"),
                },
            )
        return context


class OpportunityCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Opportunity
    form_class = OpportunityForm
    permission_required = "customers.add_opportunity"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Created opportunity %(object)s.")

    def get_initial(self):
        initial = super().get_initial()
        customer = query_id(self.request, "customer")
        if customer is not None:
            initial["customer"] = customer
        initial["expected_close_date"] = timezone.localdate() + datetime.timedelta(days=60)
        return initial

    def get_extra_form_kwargs(self):
        return {"user": self.request.user}

    def perform(self, form):
        values = dict(form.cleaned_data)
        return services.opportunity_create(actor=self.request.user, **values)


class OpportunityUpdateView(VisibleQuerysetMixin, ServiceFormMixin, UpdateView):
    model = Opportunity
    form_class = OpportunityForm
    visibility_action = "change"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Saved %(object)s.")

    def get_extra_form_kwargs(self):
        return {"user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.object.customer
        return context

    def perform(self, form):
        return services.opportunity_update(actor=self.request.user, opportunity_id=self.object.pk, **form.cleaned_data)


class OpportunityAssignView(OwnerChangeView):
    permission_required = "customers.assign_opportunity"
    form_class = OpportunityAssignForm
    template_name = "customers/opportunity_assign.html"
    param, context_name = "opportunity", "opportunities"
    detail_url, list_url = "customers:opportunity_detail", "customers:opportunity_list"
    nothing_chosen = gettext_lazy("Choose at least one opportunity.")
    done = gettext_lazy("%(count)d opportunity(ies) assigned.")

    def visible(self):
        return selectors.opportunity_list(user=self.request.user)

    def change_owner(self, ids, new_owner) -> int:
        return services.opportunity_assign(actor=self.request.user, opportunity_ids=ids, new_owner=new_owner)


class OpportunityStepView(StepView):
    """A stage step's page. The board's drag and drop posts here too, asking for JSON
    (`Accept: application/json`): the answer says whether the move happened, and why not.
    A `next` field brings the user back where they came from (the board)."""

    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("Accept", "")

    def next_url(self) -> str | None:
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()}):
            return target
        return None

    def get_success_url(self):
        return self.next_url() or super().get_success_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next"] = self.next_url() or ""
        return context

    def form_valid(self, form):
        if not self.wants_json():
            return super().form_valid(form)
        try:
            moved = self.perform(form)
        except DomainError as error:
            return JsonResponse({"ok": False, "error": str(error.message)}, status=409)
        return JsonResponse(
            {
                "ok": True,
                "stage": moved.stage,
                "message": str(self.success_message % {"object": moved}),
                "plan_url": reverse("customers:opportunity_detail", args=[moved.pk]) + "#plan",
            }
        )

    def form_invalid(self, form):
        if self.wants_json():
            errors = [str(error) for errors in form.errors.values() for error in errors]
            return JsonResponse({"ok": False, "error": " ".join(errors)}, status=409)
        return super().form_invalid(form)


# --- activities ------------------------------------------------------------------------------


class ActivityCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    model = Activity
    form_class = ActivityForm
    permission_required = "customers.add_activity"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Planned %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        self.customer = selectors.customer_get(user=request.user, pk=kwargs["customer_pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        initial = super().get_initial()
        initial["due_at"] = selectors.next_working_hour().strftime("%Y-%m-%dT%H:%M")
        opportunity = query_id(self.request, "opportunity")
        if opportunity is not None:
            initial["opportunity"] = opportunity
        return initial

    def get_extra_form_kwargs(self):
        return {"customer": self.customer, "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.customer
        return context

    def get_success_url(self):
        target = self.request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()}):
            return target
        if self.object.opportunity_id:
            return reverse("customers:opportunity_detail", args=[self.object.opportunity_id])
        return reverse("customers:customer_detail", args=[self.customer.pk]) + "#activities"

    def perform(self, form):
        return services.activity_create(actor=self.request.user, customer_id=self.customer.pk, **form.cleaned_data)


class ActivityDetailView(VisibleQuerysetMixin, DetailView):
    model = Activity

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "opportunity", "assignee", "interaction")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = self.object
        context["can_change"] = (
            activity.is_open
            and Activity.objects.visible_to(self.request.user, "change").filter(pk=activity.pk).exists()
        )
        if context["can_change"]:
            context["complete_form"] = ActivityCompleteForm()
        context["actions"] = buttons(activity, self.request.user)
        context["history"] = audit_history(activity).select_related("actor")[:50]
        return context


class MyDayView(PermissionRequiredMixin, TemplateView):
    """The user's overdue, today's and upcoming activities; a manager also sees the team's overdue ones."""

    permission_required = "customers.view_activity"
    template_name = "customers/my_day.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["day"] = selectors.my_day(user=self.request.user)
        return context
