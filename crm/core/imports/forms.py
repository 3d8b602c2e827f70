from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.forms import submit_helper
from crm.core.imports.models import ImportPolicy
from crm.core.imports.selectors import import_presets, importers_for


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(
        label=_("File"), help_text=_("CSV (UTF-8 or GBK/GB18030; comma, semicolon or tab) or Excel (.xlsx).")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(importer.kind, importer.label) for importer in importers_for(user)]
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,.xlsx"
        self.helper = submit_helper(_("Upload"))


class ImportMappingForm(forms.Form):
    """One choice per column of the file (the field it fills, or nothing), and the run's options."""

    policy = forms.ChoiceField(label=_("Duplicates"), choices=ImportPolicy.choices, initial=ImportPolicy.SKIP)
    valid_only = forms.BooleanField(label=_("Commit only the valid rows"), required=False)
    keep_history = forms.BooleanField(
        label=_("Keep original owners and creation dates (history import)"), required=False
    )
    preset_name = forms.CharField(label=_("Save this mapping as a preset named"), required=False, max_length=100)

    def __init__(self, *args, run, importer, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("(ignore this column)"))] + [
            (column.name, f"{column.label}{' *' if column.required else ''}") for column in importer.columns_for(user)
        ]
        self.columns = []
        for index, header in enumerate(run.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(label=header, choices=choices, required=False)
            self.fields[name].initial = run.mapping.get(header, "")
            self.columns.append((header, name))
        self.fields["policy"].initial = run.policy
        self.fields["valid_only"].initial = run.valid_only
        self.fields["keep_history"].initial = run.keep_history
        if not user.has_perm("imports.import_history"):
            del self.fields["keep_history"]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(name) or "" for header, name in self.columns}


class PresetChoiceForm(forms.Form):
    preset = forms.ModelChoiceField(label=_("Apply a preset"), queryset=None, required=False)

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].queryset = import_presets(kind=kind)
