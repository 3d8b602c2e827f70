"""The app boundaries of .importlinter hold, and `make lint`'s import check fails when one is crossed.

Each case copies the project's packages into a scratch folder, adds one forbidden import and
runs `lint-imports` (the command `make lint` runs) on the copy.
"""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# The packages import-linter checks, as its configuration names them.
_CONFIG = configparser.ConfigParser()
_CONFIG.read(ROOT / ".importlinter")
PACKAGES = _CONFIG["importlinter"]["root_packages"].split()
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(folder / ".importlinter")],
        cwd=folder,
        env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=skip)
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def add_import(folder: Path, module: str, line: str) -> None:
    path = folder / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_project_keeps_its_boundaries(project_copy):
    result = lint_imports(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the kernel reaching into a domain app
        ("crm.core.masking", "from customers import models", "crm.core imports no domain app"),
        # a lower app importing a higher one, even through its services
        ("customers.selectors", "from contracts import services", "Apps depend one way"),
        ("contracts.services", "from orders.selectors import order_list", "Apps depend one way"),
        ("orders.services", "from crm.dashboard import selectors", "Apps depend one way"),
        # a higher app borrowing a lower one's views, forms, filters or admin
        ("contracts.views", "from customers.forms import CustomerForm", "Other apps use customers only"),
        ("orders.filters", "from customers.filters import CustomerFilter", "Other apps use customers only"),
        ("orders.views", "from contracts.views import ContractDetailView", "Other apps use contracts only"),
        ("crm.dashboard.views", "from orders.admin import OrderAdmin", "Other apps use orders only"),
        # nothing imports the webhooks: not the kernel, not a domain app, not a sibling on the top floor
        ("crm.core.events", "from crm.webhooks import services", "crm.core imports no domain app"),
        ("orders.services", "from crm.webhooks.services import webhook_event_dispatch", "Apps depend one way"),
        ("crm.dashboard.views", "from crm.webhooks.models import WebhookDelivery", "Apps depend one way"),
    ],
)
def test_make_lint_fails_on_a_forbidden_import(project_copy, module, line, broken):
    add_import(project_copy, module, line)

    result = lint_imports(project_copy)

    assert result.returncode != 0
    assert broken in result.stdout
    assert module in result.stdout


def test_tests_may_use_the_factories_of_lower_apps(project_copy):
    add_import(project_copy, "orders.tests.factories", "from customers.tests.factories import CustomerFactory")
    add_import(project_copy, "crm.core.tests.test_boundaries", "from orders.tests.factories import order_for")

    assert lint_imports(project_copy).returncode == 0


def test_mypy_checks_every_service_and_selector_module():
    config = configparser.ConfigParser()
    config.read(ROOT / "mypy.ini")
    checked = {name.strip() for name in config["mypy"]["files"].split(",") if name.strip()}
    modules = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for pattern in ("services.py", "selectors.py")
        for path in (ROOT / package).rglob(pattern)
        if "tests" not in path.parts
    }

    assert modules <= checked, f"not in mypy.ini: {sorted(modules - checked)}"
    assert all((ROOT / name).exists() for name in checked)
