"""The import pages: upload, map the columns, dry run, commit, progress, the result file."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from crm.core.exceptions import DomainError
from crm.core.imports import engine, services
from crm.core.imports.forms import ImportMappingForm, ImportUploadForm, PresetChoiceForm
from crm.core.imports.models import ImportRun, ImportState
from crm.core.imports.registry import ERROR, importer_get
from crm.core.imports.selectors import import_presets, import_run_list, importers_for
from crm.core.querystring import query_id
from crm.core.views import domain_error_to_form

RESULT_ROWS_SHOWN = 200
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ImportRunListView(PermissionRequiredMixin, ListView):
    permission_required = "imports.view_importrun"
    template_name = "imports/importrun_list.html"
    paginate_by = 25

    def get_queryset(self):
        return import_run_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_import"] = bool(importers_for(self.request.user)) and self.request.user.has_perm(
            "imports.add_importrun"
        )
        return context


class ImportRunCreateView(PermissionRequiredMixin, FormView):
    permission_required = "imports.add_importrun"
    template_name = "imports/importrun_upload.html"
    form_class = ImportUploadForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not importers_for(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            run = services.import_run_create(
                actor=self.request.user, kind=form.cleaned_data["kind"], file_name=upload.name, content=upload.read()
            )
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        return redirect(run)


class RunMixin:
    """The run, if the user may see it (404 otherwise); its importer must still be theirs to use."""

    def get_run(self) -> ImportRun:
        run = get_object_or_404(import_run_list(user=self.request.user).defer(None), pk=self.kwargs["pk"])
        return run


class ImportRunDetailView(PermissionRequiredMixin, RunMixin, DetailView):
    """GET: the mapping form (before the commit), the progress and the dry run's result.
    POST: save the mapping (and a preset) and start the dry run."""

    permission_required = "imports.view_importrun"
    template_name = "imports/importrun_detail.html"

    def get_object(self, queryset=None):
        return self.get_run()

    def mapping_form(self, run, data=None):
        importer = importer_get(run.kind)
        if importer is None or not importer.may_use(self.request.user) or run.created_by_id != self.request.user.pk:
            return None
        if run.state not in services.READY_TO_CHECK:
            return None
        form = ImportMappingForm(data, run=run, importer=importer, user=self.request.user)
        preset_id = query_id(self.request, "preset")
        if data is None and preset_id is not None:
            preset = import_presets(kind=run.kind).filter(pk=preset_id).first()
            if preset is not None:
                for header, name in form.columns:
                    form.fields[name].initial = preset.mapping.get(header, "")
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        context["form"] = kwargs.get("form") or self.mapping_form(run)
        context["preset_form"] = PresetChoiceForm(self.request.GET or None, kind=run.kind)
        context["importer"] = importer_get(run.kind)
        problems = [result for result in run.results if result[1] == ERROR]
        context["problems"] = problems[:RESULT_ROWS_SHOWN]
        context["problems_more"] = max(0, len(problems) - RESULT_ROWS_SHOWN)
        context["shown"] = run.results[:RESULT_ROWS_SHOWN]
        context["may_commit"] = run.state == ImportState.CHECKED and run.created_by_id == self.request.user.pk
        return context

    def post(self, request, *args, **kwargs):
        self.object = run = self.get_run()
        form = self.mapping_form(run, request.POST)
        if form is None:
            raise PermissionDenied
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            services.import_run_configure(
                actor=request.user,
                run_id=run.pk,
                mapping=form.mapping(),
                policy=form.cleaned_data["policy"],
                valid_only=form.cleaned_data["valid_only"],
                keep_history=form.cleaned_data.get("keep_history", False),
            )
            if form.cleaned_data["preset_name"]:
                services.import_preset_save(
                    actor=request.user, kind=run.kind, name=form.cleaned_data["preset_name"], mapping=form.mapping()
                )
                messages.success(request, _("The mapping was saved as a preset."))
            services.import_run_check(actor=request.user, run_id=run.pk)
        except DomainError as error:
            domain_error_to_form(form, error)
            self.object.refresh_from_db()
            return self.render_to_response(self.get_context_data(form=form))
        return redirect(run)


class ImportRunCommitView(PermissionRequiredMixin, RunMixin, View):
    permission_required = "imports.add_importrun"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        run = self.get_run()
        try:
            services.import_run_commit(
                actor=request.user, run_id=run.pk, valid_only=bool(request.POST.get("valid_only")) or None
            )
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(run)


class ImportRunProgressView(PermissionRequiredMixin, RunMixin, View):
    """The progress bar, polled by htmx while the run is busy; done, it asks for the whole page."""

    permission_required = "imports.view_importrun"

    def get(self, request, *args, **kwargs):
        run = self.get_run()
        response = render(request, "imports/_progress.html", {"run": run})
        if not run.busy and request.htmx:
            response["HX-Refresh"] = "true"
        return response


class ImportRunResultView(PermissionRequiredMixin, RunMixin, View):
    """The uploaded file with the result of each row in one more column, in its own format."""

    permission_required = "imports.view_importrun"

    def get(self, request, *args, **kwargs):
        run = self.get_run()
        if not run.results:
            raise Http404(_("This import has no result yet."))
        try:
            content = engine.result_file(run)
        except DomainError as error:
            raise Http404(error.message) from None
        stem = run.file_name.rsplit(".", 1)[0] or "import"
        response = HttpResponse(content, content_type=CONTENT_TYPES[run.file_format])
        response["Content-Disposition"] = (
            f'attachment; filename="import-{run.pk}-result.{run.file_format}"; '
            f"filename*=UTF-8''{_quote(stem)}-result.{run.file_format}"
        )
        return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
