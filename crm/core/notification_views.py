"""The notifications page and its two POST actions (each only for the recipient: 404 otherwise)."""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from crm.core.exceptions import DomainError
from crm.core.notifications import notification_list, notification_mark_read, notifications_mark_all_read


class NotificationListView(ListView):
    template_name = "core/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 50

    def get_queryset(self):
        return notification_list(user=self.request.user)


class NotificationReadView(View):
    """Mark one notification read; with `open` in the form, go on to what it is about."""

    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            notification = notification_mark_read(actor=request.user, notification_id=pk)
        except DomainError:
            raise Http404(_("This notification does not exist.")) from None
        target = notification.target_url
        if request.POST.get("open") and target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            return HttpResponseRedirect(target)
        return redirect("notifications:notification_list")


class NotificationReadAllView(View):
    http_method_names = ["post"]

    def post(self, request):
        count = notifications_mark_all_read(actor=request.user)
        if count:
            messages.success(request, _("All your notifications are marked read."))
        return redirect("notifications:notification_list")
