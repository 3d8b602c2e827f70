import datetime
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView, View
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from contracts import selectors, services, signatures
from contracts.assistant import approval_recommendation, approval_recommendations
from contracts.choices import ContractStatus
from contracts.filters import ContractFilter
from contracts.forms import (
    ContractForm,
    CustomerSignForm,
    VerifyForm,
    upload_too_large_message,
)
from contracts.models import Contract
from contracts.signing.evidence import evidence_bundle
from contracts.similarity import similar_contracts
from crm.core.audit import audit_history
from crm.core.exceptions import DomainError
from crm.core.mail import MailStatus
from crm.core.masking import REVEALED
from crm.core.middleware import client_ip
from crm.core.querystring import query_id, query_int
from crm.core.views import (
    CappedListMixin,
    FilteredListMixin,
    ServiceFormMixin,
    StepView,
    VisibleQuerysetMixin,
    domain_error_to_form,
)
from crm.core.workflow import buttons as workflow_buttons
from customers.selectors import customer_get


class ContractListView(FilteredListMixin, ListView):
    model = Contract
    filterset_class = ContractFilter

    def base_queryset(self):
        return selectors.contract_list(user=self.request.user)


class ApprovalInboxView(PermissionRequiredMixin, CappedListMixin, ListView):
    """What waits for the current user's decision."""

    permission_required = "contracts.approve_contract"
    template_name = "contracts/approval_inbox.html"

    def get_queryset(self):
        return selectors.approval_inbox(user=self.request.user, sort=self.request.GET.get("sort"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(context["object_list"])
        advice = approval_recommendations(rows)
        for contract in rows:
            contract.recommendation = advice[contract.pk]
        context.update(object_list=rows, sort=selectors.inbox_sort(self.request.GET.get("sort")))
        return context


class ContractDetailView(VisibleQuerysetMixin, DetailView):
    model = Contract

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "owner", "template", "submitted_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract, user = self.object, self.request.user
        context.update(selectors.contract_detail_context(contract=contract))
        context["actions"] = workflow_buttons(contract, user)
        context["can_edit"] = contract.is_editable() and user.has_perm("contracts.change_contract")
        context["can_decide"] = selectors.contract_can_decide(contract=contract, user=user)
        if contract.status == ContractStatus.PENDING_APPROVAL and user.has_perm("contracts.approve_contract"):
            context["recommendation"] = approval_recommendation(contract)
        if contract.status not in (ContractStatus.DRAFT, ContractStatus.PENDING_APPROVAL, ContractStatus.REJECTED):
            context.update(selectors.contract_signing_context(contract=contract))
            context["can_send_link"] = any(action["name"] == "send_signing_link" for action in context["actions"])
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


class ContractDiffView(VisibleQuerysetMixin, DetailView):
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


class ContractSubmitView(StepView):
    """The submit step's page also shows the approval levels the contract will need."""

    template_name = "contracts/contract_submit.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.contract_detail_context(contract=self.object))
        context["levels"] = selectors.approval_levels(self.object.amount)
        return context


class ContractDecisionView(StepView):
    """Approving or rejecting: back to the inbox when the decision was taken from there."""

    def get_success_url(self):
        if self.request.POST.get("next") == "inbox":
            return reverse("contracts:approval_inbox")
        return self.object.get_absolute_url()


class CompanySignView(StepView):
    """The signatory's password is checked like a login first, so wrong guesses count towards
    the same lockout (django-axes: username and address): once locked, the page answers with
    the lockout page (429) until it ends. The signing service checks the password again."""

    def perform(self, form):
        user = self.request.user
        confirmed = authenticate(self.request, username=user.get_username(), password=form.cleaned_data["password"])
        if confirmed is None or confirmed.pk != user.pk:
            raise DomainError(_("The password is not correct."), field="password")
        return super().perform(form)


class SigningLinkSendView(StepView):
    """The owner e-mails the customer a one-time signing link (and sees it once)."""

    def get_initial(self):
        return {"email": self.object.customer.email}

    def perform(self, form):
        link, url = super().perform(form)
        link.refresh_from_db()  # the e-mail went out when the service committed
        anchor = format_html("<a href='{url}' data-testid='signing-url'>{url}</a>", url=url)
        if link.mail_status == MailStatus.FAILED:
            messages.error(
                self.request,
                format_html(
                    _(
                        "The link is saved, but the e-mail to {email} was not delivered ({error}). "
                        "Send the link again once mail works, or give the customer this link, which works once: {link}"
                    ),
                    email=link.email,
                    error=link.mail_error,
                    link=anchor,
                ),
            )
            return
        messages.success(
            self.request,
            format_html(_("Signing link e-mailed to {email}. It works once: {link}"), email=link.email, link=anchor),
        )


class SigningLinkRevokeView(PermissionRequiredMixin, View):
    permission_required = "contracts.change_contract"

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
        data = evidence_bundle(contract, signed, audit_history(contract).order_by("id"))
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{contract.number}-evidence.zip"'
        return response


class ContractCertificateView(VisibleQuerysetMixin, DetailView):
    """A printable certificate of completion."""

    model = Contract
    template_name = "contracts/contract_certificate.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.contract_signing_context(contract=self.object))
        context["verify_url"] = selectors.verification_address(self.object, context["verification_code"])
        context["company_name"] = settings.COMPANY_NAME
        return context


SIGNING_SESSION_KEY = "contracts_signing_link"


def _link_gone(request, message):
    return render(request, "contracts/customer_sign_done.html", {"error": message}, status=410)


@method_decorator(login_not_required, name="dispatch")
class CustomerSignStartView(View):
    """The address in the customer's e-mail: the token is checked once, exchanged for a
    short session, and the customer is sent on to a page whose address carries no token,
    so it stays out of server logs, browser history and Referer headers from then on."""

    http_method_names = ["get"]

    def get(self, request, token):
        try:
            link = selectors.signing_link_get(token)
        except DomainError as error:
            return _link_gone(request, error.message)
        until = timezone.now() + datetime.timedelta(minutes=settings.SIGNING_SESSION_MINUTES)
        request.session[SIGNING_SESSION_KEY] = {"link": link.pk, "until": until.isoformat()}
        return redirect("contracts:customer_sign_page")


@method_decorator(login_not_required, name="dispatch")
class CustomerSignView(FormView):
    """The customer's page: the contract read-only, their name and acceptance. Which link
    it is comes from the session the e-mailed address opened."""

    form_class = CustomerSignForm
    template_name = "contracts/customer_sign.html"

    def dispatch(self, request, *args, **kwargs):
        held = request.session.get(SIGNING_SESSION_KEY) or {}
        until = parse_datetime(str(held.get("until", "")))
        if not held.get("link") or until is None or until <= timezone.now():
            request.session.pop(SIGNING_SESSION_KEY, None)
            return _link_gone(
                request, _("This signing page has timed out or was not opened from your link; open the link again.")
            )
        try:
            self.link = selectors.signing_link_by_id(held["link"])
        except DomainError as error:
            request.session.pop(SIGNING_SESSION_KEY, None)
            return _link_gone(request, error.message)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contract"] = self.link.contract
        context["company_name"] = settings.COMPANY_NAME
        context["masker"] = REVEALED  # the customer reads the contract they are asked to sign
        return context

    def form_valid(self, form):
        try:
            signature = signatures.contract_sign_customer(link_id=self.link.pk, **form.cleaned_data)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        self.request.session.pop(SIGNING_SESSION_KEY, None)
        return render(self.request, "contracts/customer_sign_done.html", {"signature": signature, "masker": REVEALED})


logger = logging.getLogger(__name__)
_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _verify_rate(group, request) -> str:
    return settings.VERIFY_RATE_LIMIT


def _rate_period_seconds(rate: str) -> int:
    """The period of a "count/period" rate such as "20/m" or "100/5m", in seconds."""
    period = rate.partition("/")[2]
    multiplier = int(period[:-1]) if period[:-1].isdigit() else 1
    return multiplier * _RATE_UNITS.get(period[-1:], 60)


def _client_key(group, request) -> str:
    return client_ip(request) or ""


@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), once the upload's size is known to be fine
class VerifyView(FormView):
    """Public: anyone holding the certificate or the bundle can check the signatures.

    Each client address may verify VERIFY_RATE_LIMIT times (counted in the shared cache,
    so across server processes); an upload whose Content-Length is above
    VERIFY_UPLOAD_MAX_BYTES is refused before its body is read (so before the CSRF check,
    which reads the body, and which post() runs itself), a smaller one above it by the form,
    and a bundle is unpacked once, within the member and size limits."""

    form_class = VerifyForm
    template_name = "contracts/verify.html"

    def get(self, request, *args, **kwargs):
        # The certificate's link and QR code carry the number and the code: verify at once.
        if request.GET.get("number") and request.GET.get("code"):
            return self._limited(request) or self._verify(VerifyForm(data=request.GET))
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if limited := self._limited(request):
            return limited
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.VERIFY_UPLOAD_MAX_BYTES + 64 * 1024:  # the form fields and multipart framing
            # Refused without reading the body (the CSRF check would read it all first).
            return self.render_to_response(
                self.get_context_data(form=VerifyForm(), upload_refused=upload_too_large_message())
            )
        return csrf_protect(self._post_checked)(request, *args, **kwargs)

    def _post_checked(self, request, *args, **kwargs):
        return self._verify(VerifyForm(data=request.POST, files=request.FILES))

    def _limited(self, request):
        """The 429 page once this address has verified VERIFY_RATE_LIMIT times; None before."""
        try:
            limited = is_ratelimited(
                request, group="contracts:verify", key=_client_key, rate=_verify_rate, method=ALL, increment=True
            )
        except DatabaseError:  # no cache table: the page keeps working, and the log says what to do
            logger.exception("The verification page is not rate-limited: run `manage.py createcachetable`.")
            return None
        if not limited:
            return None
        response = render(request, "contracts/verify_limited.html", status=429)
        response["Retry-After"] = str(_rate_period_seconds(settings.VERIFY_RATE_LIMIT))
        return response

    def _verify(self, form):
        return self.form_valid(form) if form.is_valid() else self.form_invalid(form)

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
                return self.render_to_response(self.get_context_data(form=form, verdict="unknown"))
            context.update(result)
        return self.render_to_response(context)
