"""Staff pages for the desk's incoming mail: the mail to sort, one message with its three
ways out (add to a ticket, open a ticket, discard), and an attachment's download."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, View

from crm.core.exceptions import DomainError
from crm.core.views import DeferredJoinPaginator, domain_error_to_form
from service.inbound import inbound_mail_assign, inbound_mail_discard, inbound_mail_ticket_create
from service.mail_forms import InboundAssignForm, InboundDiscardForm, InboundTicketForm
from service.mail_models import InboundMail, InboundStatus, TicketAttachment
from service.models import Ticket


class InboundMailListView(PermissionRequiredMixin, ListView):
    """The mail nobody could match, oldest first (the next to sort on top); `?status=` shows
    what became of the rest."""

    permission_required = "service.view_inboundmail"
    template_name = "service/inbound_mail_list.html"
    paginate_by = 25
    paginator_class = DeferredJoinPaginator

    def status(self) -> str:
        wanted = self.request.GET.get("status", "")
        return wanted if wanted in InboundStatus.values else InboundStatus.UNSORTED

    def get_queryset(self):
        rows = InboundMail.objects.visible_to(self.request.user).filter(status=self.status())
        order = ["received_at", "pk"] if self.status() == InboundStatus.UNSORTED else ["-received_at", "-pk"]
        return rows.select_related("ticket", "handled_by").order_by(*order)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status"] = self.status()
        context["statuses"] = InboundStatus.choices
        return context


def _forms(user, bound=None):
    forms = {
        "assign_form": InboundAssignForm(),
        "ticket_form": InboundTicketForm(user=user),
        "discard_form": InboundDiscardForm(),
    }
    forms.update(bound or {})
    return forms


def _suggested_ticket(inbound: InboundMail, user) -> Ticket | None:
    if inbound.ticket_id is None:
        return None
    return Ticket.objects.visible_to(user).filter(pk=inbound.ticket_id).first()


class InboundMailDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "service.view_inboundmail"
    template_name = "service/inbound_mail_detail.html"
    context_object_name = "inbound"

    def get_queryset(self):
        return InboundMail.objects.visible_to(self.request.user).select_related("ticket", "handled_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_forms(self.request.user, kwargs.get("bound")))
        context["attachments"] = self.object.attachments.defer("content")
        context["suggested_ticket"] = _suggested_ticket(self.object, self.request.user)
        context["can_sort"] = self.object.status == InboundStatus.UNSORTED and self.request.user.has_perm(
            "service.sort_inboundmail"
        )
        return context


class _InboundSortView(PermissionRequiredMixin, View):
    """POST only: bind the form, call the one service, back to the list (or the page with
    the error next to the field)."""

    permission_required = "service.sort_inboundmail"
    http_method_names = ["post"]
    form_class: type = InboundAssignForm
    form_key = ""
    done = ""

    def perform(self, inbound: InboundMail, data: dict) -> InboundMail:
        raise NotImplementedError

    def post(self, request, pk):
        inbound = get_object_or_404(InboundMail.objects.visible_to(request.user), pk=pk)
        form = self.form_class(request.POST, user=request.user)
        if form.is_valid():
            try:
                inbound = self.perform(inbound, form.cleaned_data)
            except DomainError as error:
                domain_error_to_form(form, error)
            else:
                messages.success(request, self.done % {"ticket": inbound.ticket.number if inbound.ticket else ""})
                return redirect("service:inbound_mail_list")
        view = InboundMailDetailView(request=request, kwargs={"pk": pk}, object=inbound)
        context = view.get_context_data(object=inbound, bound={self.form_key: form})
        return render(request, view.template_name, context)


class InboundMailAssignView(_InboundSortView):
    form_class = InboundAssignForm
    form_key = "assign_form"
    done = _("The message was added to %(ticket)s.")

    def perform(self, inbound, data):
        return inbound_mail_assign(actor=self.request.user, inbound_id=inbound.pk, ticket_number=data["ticket_number"])


class InboundMailTicketCreateView(_InboundSortView):
    form_class = InboundTicketForm
    form_key = "ticket_form"
    done = _("Ticket %(ticket)s was opened from the message; the sender was told its number.")

    def perform(self, inbound, data):
        return inbound_mail_ticket_create(actor=self.request.user, inbound_id=inbound.pk, **data)


class InboundMailDiscardView(_InboundSortView):
    form_class = InboundDiscardForm
    form_key = "discard_form"
    done = _("The message was discarded.")

    def perform(self, inbound, data):
        return inbound_mail_discard(actor=self.request.user, inbound_id=inbound.pk, reason=data["reason"])


class TicketAttachmentDownloadView(View):
    """A kept attachment, to whoever may see its ticket or its unsorted message; always as
    a download (never shown inline, so a file cannot run as a page of ours)."""

    http_method_names = ["get"]

    def get(self, request, pk):
        user = request.user
        visible = Q(ticket__in=Ticket.objects.visible_to(user).values("pk")) | Q(
            inbound_mail__in=InboundMail.objects.visible_to(user).values("pk")
        )
        attachment = TicketAttachment.objects.filter(visible, pk=pk, rejected_reason="").first()
        if attachment is None:
            raise Http404(_("No such attachment."))
        response = HttpResponse(bytes(attachment.content), content_type="application/octet-stream")
        response["Content-Disposition"] = _content_disposition(attachment.filename)
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
