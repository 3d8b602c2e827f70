"""The recipient's pages, without login: one-click unsubscribe (RFC 8058) and tracked links.

The token in the address is the recipient's (only its SHA-256 is stored). GET on the
unsubscribe address asks to confirm, so a mail scanner that follows links unsubscribes
nobody; POST unsubscribes, from our page or straight from the mail program
(`List-Unsubscribe-Post: List-Unsubscribe=One-Click`), which sends no CSRF token: this
endpoint alone is exempt, and it changes nothing but the owner's consent.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from crm.core.exceptions import DomainError
from crm.core.masking import mask_email
from marketing import selectors, services


def _gone(request):
    return render(
        request,
        "marketing/unsubscribe_gone.html",
        {"error": _("This link is not valid. If you still receive mail you did not ask for, reply to it.")},
        status=410,
    )


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    recipient = selectors.recipient_by_token(token)
    if recipient is None:
        return _gone(request)
    context = {"email": mask_email(recipient.email), "campaign": recipient.campaign}
    if request.method == "GET":
        context["done"] = recipient.unsubscribed_at is not None
        return render(request, "marketing/unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    try:
        services.recipient_unsubscribe(token=token, one_click=one_click)
    except DomainError:
        return _gone(request)
    return render(request, "marketing/unsubscribe.html", {**context, "done": True})


@login_not_required
@require_GET
def click(request, token, index):
    """Count the click and go on to the campaign's own link; anything else is a 404."""
    try:
        url = services.recipient_click(token=token, index=index)
    except DomainError:
        raise Http404(_("This link is not valid.")) from None
    if not url.startswith(("http://", "https://")):
        raise Http404(_("This link is not valid."))
    return HttpResponseRedirect(url)
