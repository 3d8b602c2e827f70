from django.db.models import QuerySet

from crm.core.imports.models import ImportPreset, ImportRun
from crm.core.imports.registry import Importer, importers
from crm.core.types import Viewer


def import_run_list(*, user: Viewer) -> QuerySet[ImportRun]:
    return ImportRun.objects.visible_to(user).select_related("created_by").defer("content", "results")


def importers_for(user: Viewer) -> list[Importer]:
    """The kinds of records this user may import."""
    return [importer for importer in importers().values() if importer.may_use(user)]


def import_presets(*, kind: str) -> QuerySet[ImportPreset]:
    return ImportPreset.objects.filter(kind=kind).order_by("name")
