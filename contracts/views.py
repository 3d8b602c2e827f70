from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from contracts import selectors, services
from contracts.choices import ContractStatus
from contracts.filters import ContractFilter
from contracts.forms import CommentForm, ContractForm, ReasonForm
from contracts.models import Contract
from crm.core.views import FilteredListMixin, ServiceActionView, ServiceFormMixin, VisibleQuerysetMixin
from customers.selectors import customer_get


class ContractListView(FilteredListMixin, ListView):
    model = Contract
    filterset_class = ContractFilter

    def base_queryset(self):
        return selectors.contract_list(user=self.request.user)


class ApprovalInboxView(PermissionRequiredMixin, ListView):
    """What waits for the current user's decision."""

    permission_required = "contracts.approve_contract"
    template_name = "contracts/approval_inbox.html"
    paginate_by = 25

    def get_queryset(self):
        return selectors.approval_inbox(user=self.request.user)


class ContractDetailView(VisibleQuerysetMixin, DetailView):
    model = Contract

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "owner", "template", "submitted_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract, user = self.object, self.request.user
        context.update(selectors.contract_detail_context(contract=contract))
        context["actions"] = selectors.contract_actions(contract=contract, user=user)
        context["can_edit"] = contract.is_editable() and user.has_perm("contracts.change_contract")
        context["can_decide"] = selectors.contract_can_decide(contract=contract, user=user)
        from contracts.assistant import approval_recommendation  # TEMP until the assistant lands
        from contracts.similarity import similar_contracts

        if contract.status == ContractStatus.PENDING_APPROVAL and user.has_perm("contracts.approve_contract"):
            context["recommendation"] = approval_recommendation(contract)
        if contract.status == ContractStatus.DRAFT:
            context["similar"] = similar_contracts(contract, user=user)
        return context


class ContractCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    """Drafting starts from a customer's page (`?customer=<id>`)."""

    model = Contract
    form_class = ContractForm
    permission_required = "contracts.add_contract"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Drafted contract %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        customer_id = request.GET.get("customer", "")
        if not customer_id.isdigit():
            messages.info(request, _("Open the customer the contract is for, then choose “New contract”."))
            return redirect("customers:customer_list")
        self.customer = customer_get(user=request.user, pk=int(customer_id))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.customer
        return context

    def perform(self, form):
        values = dict(form.cleaned_data)
        template = values.pop("template")
        return services.contract_create(
            actor=self.request.user,
            customer_id=self.customer.pk,
            template_id=template.pk if template else None,
            **values,
        )


class ContractUpdateView(VisibleQuerysetMixin, ServiceFormMixin, UpdateView):
    model = Contract
    form_class = ContractForm
    visibility_action = "change"
    template_name = "contracts/contract_form.html"
    success_message = gettext_lazy("Saved %(object)s.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.object.customer
        return context

    def perform(self, form):
        return services.contract_update(
            actor=self.request.user, contract_id=self.object.pk, **form.cleaned_data
        )


class ContractDiffView(VisibleQuerysetMixin, DetailView):
    """The difference between two versions of the terms (`?from=1&to=3`)."""

    model = Contract
    template_name = "contracts/contract_diff.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        numbers = list(range(1, contract.version + 1))

        def chosen(name, default):
            value = self.request.GET.get(name, "")
            return int(value) if value.isdigit() and int(value) in numbers else default

        old, new = chosen("from", max(contract.version - 1, 1)), chosen("to", contract.version)
        context.update(
            version_numbers=numbers,
            old_number=old,
            new_number=new,
            changes=selectors.contract_versions_diff(contract, old, new),
        )
        return context


class ContractActionView(ServiceActionView):
    model = Contract


class ContractSubmitView(ContractActionView):
    visibility_action = "change"
    title = gettext_lazy("Submit for approval")
    success_message = gettext_lazy("%(object)s was submitted for approval.")
    template_name = "contracts/contract_submit.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.contract_detail_context(contract=self.object))
        context["levels"] = services.approval_levels(self.object.amount)
        return context

    def perform(self, form):
        services.contract_submit(actor=self.request.user, contract_id=self.object.pk)


class ContractApproveView(ContractActionView):
    form_class = CommentForm
    title = gettext_lazy("Approve")
    button_class = "btn-success"
    success_message = gettext_lazy("You approved %(object)s.")

    def perform(self, form):
        services.contract_approve(
            actor=self.request.user, contract_id=self.object.pk, comment=form.cleaned_data["comment"]
        )

    def get_success_url(self):
        return _next_after_decision(self.request, self.object)


class ContractRejectView(ContractActionView):
    form_class = CommentForm
    title = gettext_lazy("Reject")
    button_class = "btn-danger"
    success_message = gettext_lazy("You rejected %(object)s.")

    def perform(self, form):
        services.contract_reject(
            actor=self.request.user, contract_id=self.object.pk, comment=form.cleaned_data["comment"]
        )

    def get_success_url(self):
        return _next_after_decision(self.request, self.object)


def _next_after_decision(request, contract):
    """Back to the inbox when the decision was taken from there."""
    if request.POST.get("next") == "inbox":
        return reverse("contracts:approval_inbox")
    return contract.get_absolute_url()


class ContractReopenView(ContractActionView):
    visibility_action = "change"
    title = gettext_lazy("Reopen as draft")
    success_message = gettext_lazy("%(object)s is a draft again.")

    def perform(self, form):
        services.contract_reopen(actor=self.request.user, contract_id=self.object.pk)


class ContractCancelView(ContractActionView):
    visibility_action = "change"
    form_class = ReasonForm
    title = gettext_lazy("Cancel contract")
    button_class = "btn-danger"
    success_message = gettext_lazy("%(object)s was cancelled.")

    def perform(self, form):
        services.contract_cancel(
            actor=self.request.user, contract_id=self.object.pk, reason=form.cleaned_data["reason"]
        )


class ContractTerminateView(ContractActionView):
    form_class = ReasonForm
    title = gettext_lazy("Terminate contract")
    button_class = "btn-danger"
    success_message = gettext_lazy("%(object)s was terminated.")

    def perform(self, form):
        services.contract_terminate(
            actor=self.request.user, contract_id=self.object.pk, reason=form.cleaned_data["reason"]
        )


class ContractCompleteView(ContractActionView):
    title = gettext_lazy("Mark completed")
    success_message = gettext_lazy("%(object)s is completed.")

    def perform(self, form):
        services.contract_complete(actor=self.request.user, contract_id=self.object.pk)
