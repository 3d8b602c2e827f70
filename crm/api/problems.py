"""One error shape for the whole API: RFC 9457 problem details (application/problem+json).

    {"type": "urn:crm:problem:validation", "title": "The request is not valid.", "status": 400,
     "detail": "...", "instance": "/api/v1/customers/", "errors": {"email": ["..."]}}

`errors` holds the per-field messages (as the pages show them next to the field); `type`
names the kind of problem, `about:blank` for a plain HTTP status."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from crm.api.exceptions import IdempotencyConflict
from crm.core.exceptions import DomainError, StaleVersion, TransitionNotAllowed

logger = logging.getLogger("crm.api")

PROBLEM_TYPE = "application/problem+json"


class ProblemJSONRenderer(JSONRenderer):
    """JSON under the problem media type (error answers are rendered with it)."""

    media_type = PROBLEM_TYPE


class ApiProblem(exceptions.APIException):
    """An answer of ours with a status DRF has no exception for (409, 412, 422, 428)."""

    def __init__(self, status_code: int, detail, *, kind: str, errors=None):
        super().__init__(detail)
        self.status_code = status_code
        self.kind = kind
        self.errors = errors


TITLES = {
    400: gettext_lazy("The request is not valid."),
    401: gettext_lazy("Authentication is needed."),
    403: gettext_lazy("You may not do this."),
    404: gettext_lazy("Not found."),
    405: gettext_lazy("This method is not allowed here."),
    406: gettext_lazy("This answer format is not offered."),
    409: gettext_lazy("The step is not possible in the current state."),
    412: gettext_lazy("The object changed since you read it."),
    415: gettext_lazy("This request format is not accepted."),
    422: gettext_lazy("The request was refused by a rule."),
    428: gettext_lazy("A precondition is needed."),
    429: gettext_lazy("Too many requests."),
    500: gettext_lazy("Something went wrong on our side."),
}


def title_for(status_code: int) -> str:
    return str(TITLES.get(status_code, _("Error")))


def problem(status_code: int, *, detail="", kind="", errors=None, instance="") -> dict:
    body = {
        "type": f"urn:crm:problem:{kind}" if kind else "about:blank",
        "title": title_for(status_code),
        "status": status_code,
        "detail": str(detail or title_for(status_code)),
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def _field_errors(detail) -> dict:
    """DRF's nested error detail as {field: [message, ...]} ("non_field_errors" for the whole)."""
    if isinstance(detail, dict):
        flat = {}
        for field, value in detail.items():
            if isinstance(value, dict):
                for inner, messages in _field_errors(value).items():
                    flat[f"{field}.{inner}"] = messages
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for inner, messages in _field_errors(item).items():
                        flat[f"{field}[{index}].{inner}"] = messages
            else:
                flat[str(field)] = [str(message) for message in (value if isinstance(value, list) else [value])]
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {"non_field_errors": [str(message) for message in messages]}


def _django_errors(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(message) for message in messages]
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(message) for message in error.messages]}


def problem_response(request, status_code, *, detail="", kind="", errors=None, headers=None) -> Response:
    body = problem(status_code, detail=detail, kind=kind, errors=errors, instance=request.path if request else "")
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_TYPE)


def problem_handler(exc, context):
    """DRF's exception handler: every error, expected or not, as a problem."""
    request = context.get("request")
    set_rollback()
    headers = {}
    if isinstance(exc, TransitionNotAllowed):
        return problem_response(request, 409, detail=exc.message, kind="transition-not-allowed")
    if isinstance(exc, StaleVersion):  # found by the update service under its row lock
        return problem_response(request, 412, detail=exc.message, kind="stale")
    if isinstance(exc, IdempotencyConflict):
        return problem_response(request, 422, detail=exc.message, kind="idempotency-key-reused")
    if isinstance(exc, DomainError):
        errors = {exc.field: [str(exc.message)]} if exc.field else None
        return problem_response(request, 422, detail=exc.message, kind="rule", errors=errors)
    if isinstance(exc, DjangoValidationError):
        errors = _django_errors(exc)
        return problem_response(
            request, 422, detail=_("Correct the fields named in errors."), kind="rule", errors=errors
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, ApiProblem):
        return problem_response(request, exc.status_code, detail=exc.detail, kind=exc.kind, errors=exc.errors)
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ValidationError):
            return problem_response(
                request,
                400,
                detail=_("Correct the fields named in errors."),
                kind="validation",
                errors=_field_errors(exc.detail),
                headers=headers,
            )
        kinds = {401: "not-authenticated", 403: "forbidden", 429: "throttled"}
        detail = exc.detail if isinstance(exc.detail, str) else ""
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            status_code = status.HTTP_401_UNAUTHORIZED
        else:
            status_code = exc.status_code
        return problem_response(request, status_code, detail=detail, kind=kinds.get(status_code, ""), headers=headers)
    logger.exception("unhandled error in the API", exc_info=exc)
    return problem_response(request, 500, kind="server-error")


def not_found(request, *args, **kwargs):
    """Any path under /api/ that names nothing: a 404 problem, not the HTML page."""
    body = problem(404, detail=_("No API endpoint has this address."), kind="no-endpoint", instance=request.path)
    return JsonResponse(body, status=404, content_type=PROBLEM_TYPE)
