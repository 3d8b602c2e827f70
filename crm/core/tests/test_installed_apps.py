"""No package pretends to be an app: every folder with an `apps.py` is installed."""

from pathlib import Path

from django.apps import apps
from django.conf import settings


def test_every_package_with_an_app_config_is_installed():
    root = Path(settings.BASE_DIR)
    packages = {
        ".".join(path.parent.relative_to(root).parts)
        for pattern in ("*/apps.py", "crm/*/apps.py")
        for path in root.glob(pattern)
        if (path.parent / "__init__.py").exists()
    }
    installed = {config.name for config in apps.get_app_configs()}

    assert packages, "no app packages found"
    assert packages - installed == set()
