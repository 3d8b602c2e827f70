from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django.utils.translation import gettext_lazy as _


def submit_helper(label=None, form_tag=True) -> FormHelper:
    """A FormHelper with one primary submit button; each form owns its own copy."""
    helper = FormHelper()
    helper.form_tag = form_tag
    helper.add_input(Submit("submit", label or _("Save")))
    return helper
