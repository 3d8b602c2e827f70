"""The desk's pages for the public, without login: the inquiry form, a ticket's status page
and the satisfaction rating. A link's token is exchanged for a session on first use (as the
contract signing link does), so the address the customer keeps using carries no token."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import FormView, View
from django_ratelimit.core import is_ratelimited

from crm.core.exceptions import DomainError
from crm.core.masking import REVEALED
from crm.core.middleware import client_ip
from crm.core.views import domain_error_to_form
from service.customer_links import status_link_by_id, status_link_get, survey_by_id, survey_get
from service.mail_forms import PublicTicketForm, SatisfactionForm, StatusAnswerForm
from service.models import Ticket
from service.public import ticket_status_answer, ticket_submit_public
from service.satisfaction import satisfaction_rate
from service.selectors import status_entries, status_files

logger = logging.getLogger(__name__)

STATUS_SESSION_KEY = "service_status_link"
SURVEY_SESSION_KEY = "service_survey"
_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _period_seconds(rate: str) -> int:
    period = rate.partition("/")[2]
    multiplier = int(period[:-1]) if period[:-1].isdigit() else 1
    return multiplier * _RATE_UNITS.get(period[-1:], 60)


def _link_gone(request, message):
    return render(request, "service/public_link_gone.html", {"error": message}, status=410)


def _session_hold(request, key: str, object_id: int) -> None:
    until = timezone.now() + datetime.timedelta(minutes=settings.TICKET_STATUS_SESSION_MINUTES)
    request.session[key] = {"id": object_id, "until": until.isoformat()}


def _session_held(request, key: str) -> int | None:
    held = request.session.get(key) or {}
    until = parse_datetime(str(held.get("until", "")))
    if not held.get("id") or until is None or until <= timezone.now():
        request.session.pop(key, None)
        return None
    return int(held["id"])


@method_decorator(login_not_required, name="dispatch")
class PublicTicketFormView(FormView):
    """Anyone may ask the desk; each client address may send TICKET_FORM_RATE_LIMIT
    requests, and a filled honeypot is answered as a success without keeping anything."""

    form_class = PublicTicketForm
    template_name = "service/public_ticket_form.html"

    def post(self, request, *args, **kwargs):
        try:
            limited = is_ratelimited(
                request,
                group="service:public_ticket_form",
                key=lambda group, request: client_ip(request) or "",
                rate=lambda group, request: settings.TICKET_FORM_RATE_LIMIT,
                method="POST",
                increment=True,
            )
        except DatabaseError:  # no cache table: the form keeps working, and the log says what to do
            logger.exception("The inquiry form is not rate-limited: run `manage.py createcachetable`.")
            limited = False
        if limited:
            response = render(request, "service/public_limited.html", status=429)
            response["Retry-After"] = str(_period_seconds(settings.TICKET_FORM_RATE_LIMIT))
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if form.is_bot:
            return render(self.request, "service/public_ticket_sent.html", {"kept": True})
        fields = ("name", "email", "subject", "description", "kind", "attachments")
        data = {name: form.cleaned_data[name] for name in fields}
        try:
            outcome = ticket_submit_public(**data)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        context = {"ticket": outcome if isinstance(outcome, Ticket) else None, "kept": not isinstance(outcome, Ticket)}
        return render(self.request, "service/public_ticket_sent.html", context)


@method_decorator(login_not_required, name="dispatch")
class TicketStatusStartView(View):
    """The address in the customer's e-mail: checked, exchanged for a session, sent on."""

    http_method_names = ["get"]

    def get(self, request, token):
        try:
            link = status_link_get(token)
        except DomainError as error:
            return _link_gone(request, error.message)
        _session_hold(request, STATUS_SESSION_KEY, link.pk)
        return redirect("service:ticket_status")


@method_decorator(login_not_required, name="dispatch")
class TicketStatusView(FormView):
    """The customer's view of their ticket: its state, the public replies and their own
    messages (never an internal note), and a form to answer."""

    form_class = StatusAnswerForm
    template_name = "service/ticket_status.html"

    def dispatch(self, request, *args, **kwargs):
        link_id = _session_held(request, STATUS_SESSION_KEY)
        if link_id is None:
            return _link_gone(request, _("This page has timed out or was not opened from your link; open it again."))
        try:
            self.link = status_link_by_id(link_id)
        except DomainError as error:
            request.session.pop(STATUS_SESSION_KEY, None)
            return _link_gone(request, error.message)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = self.link.ticket
        context["ticket"] = ticket
        context["entries"] = status_entries(ticket=ticket)
        context["files"] = status_files(ticket=ticket)
        context["company_name"] = settings.COMPANY_NAME
        context["masker"] = REVEALED  # the customer reads their own request
        return context

    def form_valid(self, form):
        try:
            ticket_status_answer(
                link_id=self.link.pk, body=form.cleaned_data["body"], attachments=form.cleaned_data["attachments"]
            )
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        return redirect("service:ticket_status")


@method_decorator(login_not_required, name="dispatch")
class SatisfactionStartView(View):
    http_method_names = ["get"]

    def get(self, request, token):
        try:
            survey = survey_get(token)
        except DomainError as error:
            return _link_gone(request, error.message)
        _session_hold(request, SURVEY_SESSION_KEY, survey.pk)
        return redirect("service:satisfaction")


@method_decorator(login_not_required, name="dispatch")
class SatisfactionView(FormView):
    form_class = SatisfactionForm
    template_name = "service/satisfaction_form.html"

    def dispatch(self, request, *args, **kwargs):
        survey_id = _session_held(request, SURVEY_SESSION_KEY)
        if survey_id is None:
            return _link_gone(request, _("This page has timed out or was not opened from your link; open it again."))
        try:
            self.survey = survey_by_id(survey_id)
        except DomainError as error:
            request.session.pop(SURVEY_SESSION_KEY, None)
            return _link_gone(request, error.message)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["ticket"] = self.survey.ticket
        context["masker"] = REVEALED
        return context

    def form_valid(self, form):
        try:
            rating = satisfaction_rate(survey_id=self.survey.pk, **form.cleaned_data)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        self.request.session.pop(SURVEY_SESSION_KEY, None)
        return render(self.request, "service/satisfaction_done.html", {"rating": rating, "masker": REVEALED})
