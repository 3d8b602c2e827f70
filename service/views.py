"""The service desk's pages: the ticket list, the agent's queue, the manager's board, a new
ticket, a ticket's page with its clocks and processing record, and the customer's card."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, ListView, TemplateView, View
from django.views.generic.detail import SingleObjectMixin

from crm.core.exceptions import DomainError
from crm.core.querystring import query_id
from crm.core.views import FilteredListMixin, ServiceFormMixin, VisibleQuerysetMixin, domain_error_to_form
from crm.core.workflow import buttons as workflow_buttons
from customers.selectors import customer_get, customer_list
from service import selectors, services
from service.choices import TicketStatus
from service.filters import TicketFilter
from service.forms import AgentDutyForm, TicketEditForm, TicketForm, TicketReplyForm
from service.models import Ticket

LIST_LIMIT = 50


class TicketListView(FilteredListMixin, ListView):
    """Every ticket the user may see, filtered."""

    model = Ticket
    filterset_class = TicketFilter

    def base_queryset(self):
        return selectors.ticket_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["now"] = timezone.now()
        customer_id = getattr(self.filterset.form, "cleaned_data", {}).get("customer")
        if customer_id:
            context["scope_customer"] = customer_list(user=self.request.user).filter(pk=customer_id).first()
        return context


class TicketQueueView(PermissionRequiredMixin, ListView):
    """The agent's queue: their open tickets and the unassigned ones, nearest deadline first."""

    permission_required = "service.work_ticket"
    template_name = "service/ticket_queue.html"
    paginate_by = LIST_LIMIT

    def get_queryset(self):
        return selectors.ticket_queue(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["now"] = timezone.now()
        context["duty"] = selectors.agent_duty(agent=self.request.user)
        return context


class TicketBoardView(PermissionRequiredMixin, TemplateView):
    """The manager's board: unassigned, breaching, and each agent's load."""

    permission_required = "service.assign_ticket"
    template_name = "service/ticket_board.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.ticket_board(user=self.request.user))
        context["duties"] = selectors.agent_duties()
        context["now"] = timezone.now()
        return context


class TicketCreateView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    """Started from a customer's page (`?customer=<id>`)."""

    permission_required = "service.add_ticket"
    form_class = TicketForm
    template_name = "service/ticket_form.html"
    success_message = gettext_lazy("Opened ticket %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        customer_id = query_id(request, "customer")
        if customer_id is None:
            if request.user.has_perm(self.permission_required):
                messages.info(request, _("Open the customer the ticket is for, then choose “New ticket”."))
                return redirect("customers:customer_list")
            return super().dispatch(request, *args, **kwargs)
        self.customer = customer_get(user=request.user, pk=customer_id)
        return super().dispatch(request, *args, **kwargs)

    def get_extra_form_kwargs(self):
        return {"user": self.request.user, "customer": self.customer}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customer"] = self.customer
        return context

    def perform(self, form):
        return services.ticket_create(actor=self.request.user, customer=self.customer, **form.cleaned_data)

    def get_success_url(self):
        return self.object.get_absolute_url()


class TicketUpdateView(VisibleQuerysetMixin, ServiceFormMixin, SingleObjectMixin, FormView):
    """Change what a ticket is about: its assignee or a service manager, until it is closed."""

    model = Ticket
    visibility_action = "change"
    form_class = TicketEditForm
    template_name = "service/ticket_edit.html"
    success_message = gettext_lazy("Saved ticket %(object)s.")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        self.object = self.get_object()
        if not selectors.ticket_can_edit(ticket=self.object, user=request.user):
            if self.object.status == TicketStatus.CLOSED:
                messages.error(request, _("A closed ticket cannot be changed; reopen it first."))
                return redirect(self.object.get_absolute_url())
            raise PermissionDenied  # seen in the unassigned queue, but not theirs to change
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "contact")

    def get_extra_form_kwargs(self):
        return {"user": self.request.user, "ticket": self.object}

    def perform(self, form):
        return services.ticket_update(actor=self.request.user, ticket_id=self.object.pk, **form.cleaned_data)

    def get_success_url(self):
        return self.object.get_absolute_url()


class TicketDetailView(VisibleQuerysetMixin, DetailView):
    model = Ticket

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "customer", "contact", "contract", "order", "assignee", "sla_policy", "created_by", "resolution_code"
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket, user = self.object, self.request.user
        context["now"] = timezone.now()
        context["clocks"] = selectors.ticket_clocks(ticket)
        context["entries"] = selectors.ticket_entries(user=user, ticket=ticket)
        context["attachments"] = selectors.ticket_attachments(ticket=ticket)
        context["actions"] = workflow_buttons(ticket, user)
        context["can_write"] = selectors.ticket_can_write(ticket=ticket, user=user)
        context["can_edit"] = selectors.ticket_can_edit(ticket=ticket, user=user)
        if context["can_write"]:
            form = kwargs.get("reply_form") or TicketReplyForm()
            form.helper.form_action = reverse("service:ticket_reply", args=[ticket.pk])
            context["reply_form"] = form
        context["history"] = selectors.ticket_history(ticket=ticket)
        return context


class TicketReplyView(VisibleQuerysetMixin, View):
    """POST a note or a public reply; errors are shown on the ticket's page."""

    model = Ticket
    visibility_action = "change"

    def post(self, request, pk):
        ticket = get_object_or_404(self.get_queryset(), pk=pk)
        form = TicketReplyForm(request.POST)
        if form.is_valid():
            try:
                services.ticket_reply_add(actor=request.user, ticket=ticket, **form.cleaned_data)
            except DomainError as error:
                domain_error_to_form(form, error)
            else:
                done = (
                    _("Your reply was added; it is e-mailed to the contact.")
                    if form.cleaned_data["public"]
                    else _("Your note was added.")
                )
                messages.success(request, done)
                return redirect(ticket.get_absolute_url() + "#record")
        view = TicketDetailView(request=request, kwargs={"pk": pk}, object=ticket)
        view.object = ticket
        context = view.get_context_data(object=ticket, reply_form=form)
        return render(request, "service/ticket_detail.html", context, status=200)


class CustomerTicketsView(View):
    """The "Tickets" card of a customer's page (fetched with htmx, `?customer=<id>`): their
    latest tickets and open complaints."""

    def get(self, request):
        customer = customer_get(user=request.user, pk=query_id(request, "customer") or 0)
        if not request.user.has_perm("service.view_ticket"):
            raise Http404
        tickets = selectors.customer_tickets(user=request.user, customer=customer)
        context = {
            "customer": customer,
            "tickets": list(tickets[:10]),
            "open_complaints": list(selectors.customer_open_complaints(user=request.user, customer=customer)),
            "can_open": request.user.has_perm("service.add_ticket"),
        }
        return render(request, "service/_customer_tickets.html", context)


class AgentDutyView(View):
    """POST on/off duty for an agent: a service manager for anyone, an agent for themselves."""

    def post(self, request, pk):
        if not (request.user.pk == pk or request.user.has_perm("service.change_agentduty")):
            raise Http404
        agent = get_object_or_404(selectors.service_agents(), pk=pk)
        form = AgentDutyForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose on duty or off duty."))
        else:
            try:
                services.agent_duty_set(actor=request.user, agent=agent, on_duty=form.cleaned_data["on_duty"])
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    (_("%(agent)s is on duty.") if form.cleaned_data["on_duty"] else _("%(agent)s is off duty."))
                    % {"agent": agent.get_full_name() or agent.get_username()},
                )
        if request.user.has_perm("service.assign_ticket"):
            return redirect("service:ticket_board")
        return redirect("service:ticket_queue")
