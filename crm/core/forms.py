from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django.utils.translation import gettext_lazy as _


def submit_helper(label=None, form_tag=True, button_class="btn-primary") -> FormHelper:
    """A FormHelper with one submit button; each form owns its own copy."""
    helper = FormHelper()
    helper.form_tag = form_tag
    button = Submit("submit", label or _("Save"))
    button.field_classes = f"btn {button_class}"
    helper.add_input(button)
    return helper
