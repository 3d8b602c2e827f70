"""The user's own tokens page (/account/tokens/): list, create (the secret shown once), revoke."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from crm.api import services
from crm.api.forms import TokenForm
from crm.api.models import ApiToken
from crm.core.exceptions import DomainError
from crm.core.querystring import parse_id
from crm.core.views import domain_error_to_form

SHOWN_ONCE = "crm_api_token_shown_once"


class TokenListView(FormView):
    """Every token of the signed-in user, and the form for a new one."""

    template_name = "api/token_list.html"
    form_class = TokenForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = ApiToken.objects.filter(user=self.request.user).order_by("-created_at", "-id")
        context["new_secret"] = self.request.session.pop(SHOWN_ONCE, None)
        return context

    def form_valid(self, form):
        try:
            token, secret = services.token_create(
                actor=self.request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        # Shown on the next page only (then gone from the session): copy it now.
        self.request.session[SHOWN_ONCE] = {"name": token.name, "secret": secret}
        messages.success(self.request, _("Created the token %(name)s.") % {"name": token.name})
        return redirect("tokens:token_list")


@require_POST
def token_revoke(request, pk):
    token_id = parse_id(str(pk))
    try:
        token = services.token_revoke(actor=request.user, token_id=token_id or 0)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Revoked the token %(name)s; it no longer works.") % {"name": token.name})
    return redirect(reverse("tokens:token_list"))
