from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """The import framework of the kernel: readers, the column mapping, the dry run and the
    commit. Each domain app declares what it can import in its own `imports.py`, registered
    in its `ready()` (crm.core.imports.registry), so this package imports no domain app."""

    name = "crm.core.imports"
    label = "imports"
    verbose_name = _("Imports")
