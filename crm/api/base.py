"""The API's one base: every resource is a `ResourceViewSet` over a model's visible queryset.

- lists: the app's own FilterSet (the same filters, search and sort as its list page),
  then keyset pagination (`?after=<id>&limit=`, crm.core.keyset) in the list's own order,
  primary key last, so pages never overlap or skip however the rows change;
- details: an ETag, the row's version (crm.core.versions); PATCH/PUT need `If-Match` (428
  without), and the update service compares it once it holds the row lock (412 stale);
- creating POSTs: an optional `Idempotency-Key` (crm.api.services.idempotent_call);
- workflow steps: one POST action per row of the model's step table (crm/core/workflow.py),
  made when the class is declared, so a step added to the table appears here.
"""

import inspect

from django.http import Http404
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from crm.api import services
from crm.api.authentication import api_context
from crm.api.models import ApiToken
from crm.api.problems import ApiProblem
from crm.api.schema import ResourceSchema
from crm.core.audit import json_safe
from crm.core.exceptions import DomainError
from crm.core.masking import masker_for
from crm.core.querystring import parse_id, parse_int
from crm.core.versions import row_version

DEFAULT_LIMIT, MAX_LIMIT = 25, 100

PROBLEM = OpenApiResponse(
    response=inline_serializer(
        "Problem",
        {
            "type": serializers.CharField(),
            "title": serializers.CharField(),
            "status": serializers.IntegerField(),
            "detail": serializers.CharField(),
            "instance": serializers.CharField(required=False),
            "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False),
        },
    ),
    description="RFC 9457 problem details",
)
PROBLEMS = {
    (code, "application/problem+json"): PROBLEM for code in (400, 401, 403, 404, 405, 406, 409, 412, 415, 422, 428, 429)
}
IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True, description="The ETag you read.")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False, description="Retry safely: same key, same answer."
)


class ApiViewMixin:
    """Audit context "api" (with the token's name) once the caller is known."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        api_context(request, request.auth if isinstance(request.auth, ApiToken) else None)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["masker"] = masker_for(self.request.user)
        return context


def _step_form_kwargs(form_class, obj, user) -> dict:
    parameters = inspect.signature(form_class.__init__).parameters
    kwargs = {}
    if "user" in parameters:
        kwargs["user"] = user
    name = type(obj)._meta.model_name
    if name in parameters:
        kwargs[name] = obj
    return kwargs


FORM_FIELDS = {
    "BooleanField": lambda f: serializers.BooleanField(required=False),
    "IntegerField": lambda f: serializers.IntegerField(required=f.required),
    "DecimalField": lambda f: serializers.DecimalField(max_digits=14, decimal_places=2, required=f.required),
    "DateField": lambda f: serializers.DateField(required=f.required),
    "DateTimeField": lambda f: serializers.DateTimeField(required=f.required),
    "EmailField": lambda f: serializers.EmailField(required=f.required),
    "ModelChoiceField": lambda f: serializers.IntegerField(required=f.required, help_text="id"),
    "TypedChoiceField": lambda f: serializers.IntegerField(required=f.required, allow_null=True),
}


def step_request_serializer(name: str, form_class):
    """The step's form as a serializer, for the schema (the form itself checks the input)."""
    fields = {}
    for field_name, field in form_class.base_fields.items():
        make = FORM_FIELDS.get(type(field).__name__)
        if make is None and hasattr(field, "choices") and type(field).__name__ == "ChoiceField":
            make = lambda f: serializers.ChoiceField(choices=list(f.choices), required=f.required)  # noqa: E731
        make = make or (lambda f: serializers.CharField(required=f.required, allow_blank=not f.required))
        fields[field_name] = make(field)
        fields[field_name].help_text = str(field.label or "")
    return inline_serializer(name, fields)


def make_step_action(workflow, step, read_serializer):
    """The POST that takes one step: 404 for an object the user may not see (or, for a step
    that changes it, may not change), 403 without the step's permission, 400 for a form
    error, 409 from a state the step does not leave and 422 for a rule, with the page's message."""
    form_class = workflow.form_class(step)
    model_name = workflow.model.__name__

    def take_step(self, request, pk=None):
        obj = self.get_visible_object(step.visibility)
        if not request.user.has_perm(step.permission):
            raise PermissionDenied(_("Your role may not take this step."))
        form = form_class(data=request.data, **_step_form_kwargs(form_class, obj, request.user))
        if not form.is_valid():
            raise ValidationError({name: list(messages) for name, messages in form.errors.items()})
        state = workflow.states(getattr(obj, workflow.status_field))
        try:
            result = workflow.run(step.name, actor=request.user, obj=obj, **form.cleaned_data)
        except DomainError as error:
            if state not in step.sources:  # the wrong state: 409, with the page's message
                raise ApiProblem(409, error.message, kind="wrong-state") from None
            errors = {error.field: [str(error.message)]} if error.field else None
            raise ApiProblem(422, error.message, kind="rule", errors=errors) from None
        if isinstance(result, tuple):
            result = result[0]
        target = result if isinstance(result, workflow.model) else obj
        return self.detail_response(self.reload(target.pk))

    take_step.__name__ = f"step_{step.name}"
    take_step.__doc__ = f"The step “{step.name}” of the {model_name.lower()}'s workflow table."
    schema = extend_schema(
        request=step_request_serializer(f"{model_name}{step.name.title().replace('_', '')}Step", form_class),
        responses={200: read_serializer, **PROBLEMS},
        summary=step.page_title or step.label,
        operation_id=f"{model_name.lower()}_{step.name}",
    )
    segment = step.path or step.name.replace("_", "-")
    return schema(action(detail=True, methods=["post"], url_path=segment, url_name=step.name)(take_step))


class ResourceViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """A model over its visible queryset. Subclasses name `model`, `serializer_class`, the
    `filterset_class` of the app's list page, and the services behind create and update."""

    model = None
    filterset_class = None
    create_serializer_class = None
    update_serializer_class = None
    create_permission = ""  # the permission the page that creates one asks for (403 without it)
    workflow = None
    excluded_steps: tuple[str, ...] = ()
    related = ()
    prefetch = ()
    lookup_value_regex = "[0-9]{1,18}"
    schema = ResourceSchema()

    @classmethod
    def basename_for_schema(cls) -> str:
        return cls.model._meta.model_name

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.workflow is not None:
            for step in cls.workflow.page_steps():
                if step.name in cls.excluded_steps:
                    continue
                method = make_step_action(cls.workflow, step, cls.serializer_class)
                setattr(cls, method.__name__, method)

    # --- reading --------------------------------------------------------------------------

    def base_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_queryset(self):
        queryset = self.base_queryset()
        if self.related:
            queryset = queryset.select_related(*self.related)
        if self.prefetch:
            queryset = queryset.prefetch_related(*self.prefetch)
        return queryset

    def get_visible_object(self, action="view"):
        pk = parse_id(str(self.kwargs.get("pk", "")))
        queryset = self.model.objects.visible_to(self.request.user, action)
        obj = queryset.filter(pk=pk).first() if pk is not None else None
        if obj is None:
            raise Http404
        return obj

    def reload(self, pk):
        obj = self.get_queryset().filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj

    def detail_response(self, obj, status_code=status.HTTP_200_OK, headers=None):
        data = self.get_serializer(obj).data
        response = Response(data, status=status_code, headers=headers)
        response["ETag"] = row_version(obj)
        return response

    def filtered_queryset(self):
        queryset = self.get_queryset()
        if self.filterset_class is None:
            return queryset.order_by("-pk")
        filterset = self.filterset_class(self.request.query_params or None, queryset, request=self.request)
        if filterset.is_bound and not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs

    def list_response(self, request):
        from crm.core.keyset import list_ordering, rows_after

        queryset = self.filtered_queryset()
        if list_ordering(queryset) is None:
            queryset = queryset.order_by("-pk")
        limit = parse_int(request.query_params.get("limit", ""), minimum=1, maximum=MAX_LIMIT) or DEFAULT_LIMIT
        after = request.query_params.get("after")
        if after:
            after_id = parse_id(after)
            following = rows_after(queryset, after_id) if after_id is not None else None
            if following is None:
                raise ValidationError({"after": [_("This cursor is not a row of this list.")]})
            queryset = following
        rows = list(queryset[: limit + 1])
        page = rows[:limit]
        data = self.get_serializer(page, many=True).data
        next_url = None
        if len(rows) > limit:
            query = request.query_params.copy()
            query["after"] = str(page[-1].pk)
            next_url = request.build_absolute_uri(request.path) + "?" + urlencode(query, doseq=True)
        return Response({"next": next_url, "results": data})

    def retrieve_response(self, request):
        """One read: the list's queryset holds exactly the rows the user may view."""
        pk = parse_id(str(self.kwargs.get("pk", "")))
        if pk is None:
            raise Http404
        return self.detail_response(self.reload(pk))

    # --- writing --------------------------------------------------------------------------

    def perform_create(self, data):
        raise NotImplementedError

    def perform_update(self, obj, data, *, expected_version):
        raise NotImplementedError

    def create_response(self, request):
        if self.create_permission and not request.user.has_perm(self.create_permission):
            raise PermissionDenied

        def call():
            serializer = self.create_serializer_class(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            obj = self.perform_create(serializer.validated_data)
            created["response"] = self.detail_response(self.reload(obj.pk), status.HTTP_201_CREATED)
            return created["response"].status_code, json_safe(created["response"].data)

        created: dict[str, Response] = {}
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            call()
            return created["response"]
        if len(key) > 255:
            raise ValidationError({"Idempotency-Key": [_("An Idempotency-Key has at most 255 characters.")]})
        status_code, data, replayed = services.idempotent_call(
            user=request.user, key=key, method=request.method, path=request.path, body=request.body, call=call
        )
        if not replayed:
            return created["response"]
        response = Response(data, status=status_code)  # the first answer again: GET it for its ETag now
        response["Idempotent-Replayed"] = "true"
        return response

    def update_response(self, request, *, partial):
        obj = self.reload(self.get_visible_object("change").pk)
        if_match = request.headers.get("If-Match")
        if not if_match:
            raise ApiProblem(
                428,
                _("Send the ETag you read in an If-Match header, so a change made meanwhile is not overwritten."),
                kind="if-match-required",
            )
        offered = {tag.strip() for tag in if_match.split(",")}
        serializer = self.update_serializer_class(
            instance=obj, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        # The service compares the version under its row lock (StaleVersion: 412), so a
        # change committed between this request's read and its write is never overwritten.
        expected_version = None if "*" in offered else offered
        updated = self.perform_update(obj, serializer.validated_data, expected_version=expected_version)
        return self.detail_response(self.reload(updated.pk))


class Read:
    """GET of the list and of one object."""

    def list(self, request, *args, **kwargs):
        return self.list_response(request)

    def retrieve(self, request, *args, **kwargs):
        return self.retrieve_response(request)


class Create:
    """POST to create (with an optional Idempotency-Key)."""

    def create(self, request, *args, **kwargs):
        return self.create_response(request)


class Write(Create):
    """POST to create, PUT and PATCH to change (with If-Match)."""

    def update(self, request, *args, **kwargs):
        return self.update_response(request, partial=False)

    def partial_update(self, request, *args, **kwargs):
        return self.update_response(request, partial=True)


def _filter_parameters(filterset_class) -> list[OpenApiParameter]:
    parameters = []
    for name, filter_ in filterset_class.base_filters.items() if filterset_class else ():
        choices = None
        if hasattr(filter_, "extra") and filter_.extra.get("choices"):
            choices = [str(value) for value, _label in filter_.extra["choices"]]
        parameters.append(
            OpenApiParameter(
                name, str, OpenApiParameter.QUERY, required=False, description=str(filter_.label or ""), enum=choices
            )
        )
    return parameters


def documented(cls):
    """The schema of a resource's list, detail, create and update, from its own classes."""
    read = cls.serializer_class
    name = read.__name__.removesuffix("Serializer")
    page = inline_serializer(
        f"{name}Page",
        {"next": serializers.URLField(allow_null=True), "results": read(many=True)},
    )
    paging = [
        OpenApiParameter(
            "after", int, OpenApiParameter.QUERY, required=False, description="The last id of the previous page."
        ),
        OpenApiParameter("limit", int, OpenApiParameter.QUERY, required=False, description=f"1 to {MAX_LIMIT}."),
    ]
    views = {
        "list": extend_schema(
            responses={200: page, **PROBLEMS}, parameters=[*_filter_parameters(cls.filterset_class), *paging]
        ),
        "retrieve": extend_schema(responses={200: read, **PROBLEMS}),
    }
    if issubclass(cls, Create):
        views["create"] = extend_schema(
            request=cls.create_serializer_class, responses={201: read, **PROBLEMS}, parameters=[IDEMPOTENCY_KEY]
        )
    if issubclass(cls, Write):
        for method in ("update", "partial_update"):
            views[method] = extend_schema(
                request=cls.update_serializer_class, responses={200: read, **PROBLEMS}, parameters=[IF_MATCH]
            )
    return extend_schema_view(**views)(cls)
