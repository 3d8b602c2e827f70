"""Marketing's pages: segments with their live count, campaigns with their preview, test
send, steps and results."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, ListView, View
from django.views.generic.detail import SingleObjectMixin

from crm.core.audit import audit_history
from crm.core.exceptions import DomainError
from crm.core.masking import masker_for
from crm.core.querystring import query_id
from crm.core.views import ServiceFormMixin, VisibleQuerysetMixin
from crm.core.workflow import buttons as workflow_buttons
from customers.choices import CustomerStatus, CustomerTier, Industry, Region
from marketing import selectors, services
from marketing.choices import CampaignStatus
from marketing.forms import CampaignForm, CampaignOpportunityForm, SegmentForm
from marketing.models import Campaign, Segment
from marketing.rendering import render as fill
from marketing.rendering import render_subject

SAMPLE_ROWS = 25


# --- segments ------------------------------------------------------------------------------


class SegmentListView(PermissionRequiredMixin, VisibleQuerysetMixin, ListView):
    permission_required = "marketing.view_segment"
    model = Segment
    paginate_by = 25

    def get_queryset(self):
        return selectors.segment_list(user=self.request.user).order_by("name", "id")


class SegmentFormMixin(ServiceFormMixin):
    form_class = SegmentForm
    template_name = "marketing/segment_form.html"

    def get_extra_form_kwargs(self):
        return {"user": self.request.user, "count_url": reverse("marketing:segment_count")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        criteria = selectors.segment_criteria(self.object) if getattr(self, "object", None) else {}
        context["audience"] = selectors.audience_count(
            selectors.customers_matching(criteria=criteria, owner=self.request.user, user=self.request.user)
        )
        return context

    def get_success_url(self):
        return self.object.get_absolute_url()


class SegmentCreateView(PermissionRequiredMixin, SegmentFormMixin, FormView):
    permission_required = "marketing.add_segment"
    success_message = gettext_lazy("Saved segment %(object)s.")

    def perform(self, form):
        values = dict(form.cleaned_data)
        return services.segment_create(actor=self.request.user, **values)


class SegmentUpdateView(VisibleQuerysetMixin, SegmentFormMixin, SingleObjectMixin, FormView):
    model = Segment
    visibility_action = "change"
    success_message = gettext_lazy("Saved segment %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def perform(self, form):
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        return services.segment_update(actor=self.request.user, segment_id=self.object.pk, **values)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["audience"] = selectors.audience_count(
            selectors.segment_customers(segment=self.object, user=self.request.user)
        )
        return context


class SegmentCountView(PermissionRequiredMixin, View):
    """The live count while the criteria are typed (htmx): the segment's customers, their
    contacts and whom a campaign would mail, as the user's own segment would hold them."""

    permission_required = "marketing.view_segment"

    def get(self, request):
        form = SegmentForm(request.GET, user=request.user)
        form.is_valid()
        customers = selectors.customers_matching(criteria=form.criteria(), owner=request.user, user=request.user)
        return render(request, "marketing/_segment_count.html", {"audience": selectors.audience_count(customers)})


class SegmentDetailView(PermissionRequiredMixin, VisibleQuerysetMixin, DetailView):
    permission_required = "marketing.view_segment"
    model = Segment

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        segment, user = self.object, self.request.user
        customers = selectors.segment_customers(segment=segment, user=user)
        context["audience"] = selectors.audience_count(customers)
        context["sample"] = customers.select_related("owner").order_by("name", "id")[:SAMPLE_ROWS]
        context["campaigns"] = selectors.campaign_list(user=user).filter(segment=segment)
        context["can_change"] = Segment.objects.visible_to(user, "change").filter(pk=segment.pk).exists()
        context["history"] = audit_history(segment)
        context["labels"] = {
            "statuses": [
                str(CustomerStatus(value).label) for value in segment.statuses if value in CustomerStatus.values
            ],
            "tiers": [str(CustomerTier(value).label) for value in segment.tiers if value in CustomerTier.values],
            "industries": [str(Industry(value).label) for value in segment.industries if value in Industry.values],
            "regions": [str(Region(value).label) for value in segment.regions if value in Region.values],
        }
        return context


# --- campaigns -----------------------------------------------------------------------------


class CampaignListView(PermissionRequiredMixin, ListView):
    permission_required = "marketing.view_campaign"
    model = Campaign
    paginate_by = 25

    def get_queryset(self):
        queryset = selectors.campaign_list(user=self.request.user)
        status = self.request.GET.get("status", "")
        if status in CampaignStatus.values:
            queryset = queryset.filter(status=status)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = CampaignStatus.choices
        context["status"] = self.request.GET.get("status", "")
        return context


class CampaignCreateView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    permission_required = "marketing.add_campaign"
    form_class = CampaignForm
    template_name = "marketing/campaign_form.html"
    success_message = gettext_lazy("Saved campaign %(object)s.")

    def get_extra_form_kwargs(self):
        return {"user": self.request.user}

    def get_initial(self):
        segment_id = query_id(self.request, "segment")
        return {"segment": segment_id} if segment_id else {}

    def perform(self, form):
        return services.campaign_create(actor=self.request.user, **form.cleaned_data)

    def get_success_url(self):
        return self.object.get_absolute_url()


class CampaignUpdateView(VisibleQuerysetMixin, ServiceFormMixin, SingleObjectMixin, FormView):
    model = Campaign
    visibility_action = "change"
    form_class = CampaignForm
    template_name = "marketing/campaign_form.html"
    success_message = gettext_lazy("Saved campaign %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        self.object = self.get_object()
        if self.object.status != CampaignStatus.DRAFT:
            messages.error(request, _("Only a draft campaign can be changed."))
            return redirect(self.object.get_absolute_url())
        return super().dispatch(request, *args, **kwargs)

    def get_extra_form_kwargs(self):
        return {"user": self.request.user, "instance": self.object}

    def perform(self, form):
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        return services.campaign_update(actor=self.request.user, campaign_id=self.object.pk, **values)

    def get_success_url(self):
        return self.object.get_absolute_url()


class CampaignObjectMixin(PermissionRequiredMixin, VisibleQuerysetMixin):
    permission_required = "marketing.view_campaign"
    model = Campaign

    def get_queryset(self):
        return super().get_queryset().select_related("segment", "owner")


class CampaignDetailView(CampaignObjectMixin, DetailView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign, user = self.object, self.request.user
        context["actions"] = workflow_buttons(campaign, user)
        context["results"] = selectors.campaign_results(campaign=campaign, user=user)
        if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            context["audience"] = selectors.audience_count(
                selectors.segment_customers(segment=campaign.segment, user=user)
            )
        context["recipients"] = selectors.recipient_list(campaign=campaign)[:SAMPLE_ROWS]
        context["can_change"] = (
            campaign.status == CampaignStatus.DRAFT
            and Campaign.objects.visible_to(user, "change").filter(pk=campaign.pk).exists()
        )
        context["can_test"] = user.has_perm("marketing.change_campaign")
        context["history"] = audit_history(campaign)
        return context


class CampaignPreviewView(CampaignObjectMixin, DetailView):
    """The mail as a sample recipient gets it (`?contact=<id>` among those it reaches), with
    contact details masked as the viewer sees them."""

    template_name = "marketing/campaign_preview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign, user = self.object, self.request.user
        contact = selectors.campaign_sample_contact(
            campaign=campaign, user=user, contact_id=query_id(self.request, "contact")
        )
        sample = selectors.sample_for(campaign=campaign, contact=contact)
        versions = []
        for language, label in (("zh-hans", _("Chinese")), ("en", _("English"))):
            chosen, subject, body = campaign.version_for(language)
            if chosen == language and subject:
                versions.append(
                    {
                        "label": label,
                        "subject": render_subject(subject, sample),  # masked by the template
                        "body": fill(body, sample),
                    }
                )
        context.update(
            contact=contact,
            versions=versions,
            choices=selectors.campaign_reachable(campaign=campaign, user=user)[:50],
        )
        return context


class CampaignTestSendView(CampaignObjectMixin, SingleObjectMixin, View):
    """POST only: mail the campaign to yourself."""

    permission_required = "marketing.change_campaign"

    def post(self, request, pk):
        self.object = self.get_object()
        try:
            address = services.campaign_test_send(
                actor=request.user, campaign_id=self.object.pk, contact_id=query_id(request, "contact")
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("A test copy is on its way to %(email)s.") % {"email": masker_for(request.user).email(address)},
            )
        return redirect(self.object.get_absolute_url())


class CampaignResultsView(CampaignObjectMixin, DetailView):
    template_name = "marketing/campaign_results.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["results"] = selectors.campaign_results(campaign=self.object, user=self.request.user)
        context["recipients"] = selectors.recipient_list(campaign=self.object)[:200]
        context["can_link"] = self.request.user.has_perm("customers.add_opportunity")
        return context


class CampaignOpportunityCreateView(PermissionRequiredMixin, ServiceFormMixin, SingleObjectMixin, FormView):
    """A new opportunity with a customer the campaign reached, the campaign as its source."""

    permission_required = "customers.add_opportunity"
    model = Campaign
    form_class = CampaignOpportunityForm
    template_name = "marketing/campaign_opportunity_form.html"
    success_message = gettext_lazy("Opened opportunity %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.object = selectors.campaign_get(user=request.user, pk=kwargs["pk"])
            if not request.user.has_perm(self.permission_required):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_extra_form_kwargs(self):
        return {"campaign": self.object, "user": self.request.user}

    def form_valid(self, form):
        self.campaign = self.object
        return super().form_valid(form)

    def perform(self, form):
        values = dict(form.cleaned_data)
        customer = values.pop("customer")
        return services.campaign_opportunity_create(
            actor=self.request.user, campaign_id=self.campaign.pk, customer_id=customer.pk, **values
        )

    def get_success_url(self):
        return reverse("marketing:campaign_results", args=[self.campaign.pk])
