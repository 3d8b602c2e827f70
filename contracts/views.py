from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView, View

from contracts import selectors, services, signatures
from contracts.assistant import approval_recommendation
from contracts.choices import ContractStatus
from contracts.filters import ContractFilter
from contracts.forms import (
    CommentForm,
    CompanySignForm,
    ContractForm,
    CustomerSignForm,
    ReasonForm,
    SigningLinkForm,
    VerifyForm,
)
from contracts.models import Contract
from contracts.signing.evidence import evidence_bundle
from contracts.similarity import similar_contracts
from contracts.workflow import STEP_PERMISSIONS
from crm.core.audit import audit_history
from crm.core.exceptions import DomainError
from crm.core.querystring import query_id, query_int
from crm.core.views import (
    FilteredListMixin,
    ServiceActionView,
    ServiceFormMixin,
    VisibleQuerysetMixin,
    domain_error_to_form,
)
from customers.selectors import customer_get
from customers.views import RevealMixin


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


class ContractDetailView(RevealMixin, VisibleQuerysetMixin, DetailView):
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
        if contract.status == ContractStatus.PENDING_APPROVAL and user.has_perm("contracts.approve_contract"):
            context["recommendation"] = approval_recommendation(contract)
        if contract.status not in (ContractStatus.DRAFT, ContractStatus.PENDING_APPROVAL, ContractStatus.REJECTED):
            context.update(selectors.contract_signing_context(contract=contract))
            context.update(selectors.contract_signing_actions(contract=contract, user=user, context=context))
        return context


class ContractSimilarView(VisibleQuerysetMixin, DetailView):
    """Similar past contracts, loaded after the page (TF-IDF takes a moment on many contracts)."""

    model = Contract
    template_name = "contracts/_similar.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["similar"] = similar_contracts(self.object, user=self.request.user)
        return context


class ContractCreateView(PermissionRequiredMixin, ServiceFormMixin, CreateView):
    """Drafting starts from a customer's page (`?customer=<id>`)."""

    model = Contract
    form_class = ContractForm
    permission_required = "contracts.add_contract"
    template_name = "generic/form.html"
    success_message = gettext_lazy("Drafted contract %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        customer_id = query_id(request, "customer")
        if customer_id is None:
            messages.info(request, _("Open the customer the contract is for, then choose “New contract”."))
            return redirect("customers:customer_list")
        self.customer = customer_get(user=request.user, pk=customer_id)
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
        return services.contract_update(actor=self.request.user, contract_id=self.object.pk, **form.cleaned_data)


class ContractDiffView(RevealMixin, VisibleQuerysetMixin, DetailView):
    """The difference between two versions of the terms (`?from=1&to=3`)."""

    model = Contract
    template_name = "contracts/contract_diff.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        numbers = list(range(1, contract.version + 1))

        def chosen(name, default):
            return query_int(self.request, name, default=default, minimum=1, maximum=contract.version)

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
    permission_required = STEP_PERMISSIONS["submit"]
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
    permission_required = STEP_PERMISSIONS["approve"]
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
    permission_required = STEP_PERMISSIONS["reject"]
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
    permission_required = STEP_PERMISSIONS["reopen"]
    visibility_action = "change"
    title = gettext_lazy("Reopen as draft")
    success_message = gettext_lazy("%(object)s is a draft again.")

    def perform(self, form):
        services.contract_reopen(actor=self.request.user, contract_id=self.object.pk)


class ContractCancelView(ContractActionView):
    permission_required = STEP_PERMISSIONS["cancel"]
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
    permission_required = STEP_PERMISSIONS["terminate"]
    form_class = ReasonForm
    title = gettext_lazy("Terminate contract")
    button_class = "btn-danger"
    success_message = gettext_lazy("%(object)s was terminated.")

    def perform(self, form):
        services.contract_terminate(
            actor=self.request.user, contract_id=self.object.pk, reason=form.cleaned_data["reason"]
        )


class ContractCompleteView(ContractActionView):
    permission_required = STEP_PERMISSIONS["complete"]
    title = gettext_lazy("Mark completed")
    success_message = gettext_lazy("%(object)s is completed.")

    def perform(self, form):
        services.contract_complete(actor=self.request.user, contract_id=self.object.pk)


class ContractSignView(ContractActionView):
    """The company signatory signs, confirming with their password."""

    permission_required = STEP_PERMISSIONS["sign"]

    form_class = CompanySignForm
    title = gettext_lazy("Sign for the company")
    button_class = "btn-success"
    success_message = gettext_lazy("You signed %(object)s for the company.")

    def perform(self, form):
        signatures.contract_sign_company(
            actor=self.request.user, contract_id=self.object.pk, password=form.cleaned_data["password"]
        )


class SigningLinkSendView(ContractActionView):
    """The owner e-mails the customer a one-time signing link (and sees it once)."""

    permission_required = STEP_PERMISSIONS["signing_link_send"]

    visibility_action = "change"
    form_class = SigningLinkForm
    title = gettext_lazy("Send signing link to the customer")

    def get_initial(self):
        return {"email": self.object.customer.email}

    def perform(self, form):
        link, url = signatures.signing_link_send(
            actor=self.request.user, contract_id=self.object.pk, email=form.cleaned_data["email"]
        )
        messages.success(
            self.request,
            format_html(
                _("Signing link e-mailed to {email}. It works once: {link}"),
                email=link.email,
                link=format_html("<a href='{url}' data-testid='signing-url'>{url}</a>", url=url),
            ),
        )


class SigningLinkRevokeView(PermissionRequiredMixin, View):
    permission_required = STEP_PERMISSIONS["signing_link_revoke"]

    def post(self, request, pk, link_pk):
        contract = selectors.contract_get(user=request.user, pk=pk, action="change")
        try:
            signatures.signing_link_revoke(actor=request.user, contract_id=contract.pk, link_id=link_pk)
            messages.success(request, _("The signing link was revoked."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(contract.get_absolute_url())


class ContractEvidenceView(PermissionRequiredMixin, VisibleQuerysetMixin, DetailView):
    """The evidence bundle: statements, signatures, public keys, audit trail, openssl README.

    The signed statements hold the signers' e-mail addresses and cannot be masked without
    breaking their signatures, so only roles that may see contact details download it."""

    model = Contract
    permission_required = "customers.view_contact_details"

    def render_to_response(self, context):
        contract = self.object
        signed = list(contract.signatures.select_related("key"))
        if not signed:
            raise Http404(_("This contract has no signatures yet."))
        data = evidence_bundle(contract, signed, audit_history(contract).order_by("seq"))
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{contract.number}-evidence.zip"'
        return response


class ContractCertificateView(RevealMixin, VisibleQuerysetMixin, DetailView):
    """A printable certificate of completion."""

    model = Contract
    template_name = "contracts/contract_certificate.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.contract_signing_context(contract=self.object))
        context["verify_url"] = settings.SITE_URL.rstrip("/") + reverse("contracts:verify")
        context["company_name"] = settings.COMPANY_NAME
        return context


@method_decorator(login_not_required, name="dispatch")
class CustomerSignView(FormView):
    """The customer's one-time page: the contract read-only, their name and acceptance."""

    form_class = CustomerSignForm
    template_name = "contracts/customer_sign.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            self.link = signatures.signing_link_get(kwargs["token"])
        except DomainError as error:
            return render(request, "contracts/customer_sign_done.html", {"error": error.message}, status=410)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contract"] = self.link.contract
        context["company_name"] = settings.COMPANY_NAME
        return context

    def form_valid(self, form):
        try:
            signature = signatures.contract_sign_customer(token=self.kwargs["token"], **form.cleaned_data)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        return render(self.request, "contracts/customer_sign_done.html", {"signature": signature})


@method_decorator(login_not_required, name="dispatch")
class VerifyView(FormView):
    """Public: anyone holding the certificate or the bundle can check the signatures."""

    form_class = VerifyForm
    template_name = "contracts/verify.html"

    def form_valid(self, form):
        context = self.get_context_data(form=form)
        bundle = form.cleaned_data.get("bundle")
        if bundle:
            try:
                context["bundle_results"] = selectors.bundle_verify(bundle.read())
            except ValueError as error:
                form.add_error("bundle", str(error))
                return self.form_invalid(form)
        else:
            result = selectors.contract_verify_by_code(form.cleaned_data["number"], form.cleaned_data["code"])
            if result is None:
                form.add_error(None, _("No signed contract has this number and verification code."))
                return self.form_invalid(form)
            context.update(result)
        return self.render_to_response(context)
