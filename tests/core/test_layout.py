"""Imports run one way: the apps stand on core, and config only wires them together."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "accounts",
    "membership",
    "groups",
    "billing",
    "appstores",
    "gifts",
    "publishers",
    "web",
    "privacy",
]


def _imported_modules(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [(str(path.relative_to(ROOT)), name) for name in names]
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", [*APPS, "core"])
def test_no_app_imports_config_for_code(package: str) -> None:
    offenders = [(f, m) for f, m in _imported_modules(package) if _top(m) == "config"]

    assert offenders == []


def test_core_imports_no_app() -> None:
    offenders = [(f, m) for f, m in _imported_modules("core") if _top(m) in APPS]

    assert offenders == []


@pytest.mark.parametrize("package", [a for a in APPS if a != "privacy"])
def test_no_app_imports_privacy(package: str) -> None:
    """privacy may import every app; nothing imports it (config only wires its URLs)."""
    offenders = [(f, m) for f, m in _imported_modules(package) if _top(m) == "privacy"]

    assert offenders == []


@pytest.mark.parametrize("app", ["membership", "privacy"])
def test_services_do_not_import_tasks(app: str) -> None:
    """Services return what is to be queued; tasks queue it (no services -> tasks loop)."""
    services = [
        (f, m)
        for f, m in _imported_modules(app)
        if f.startswith((f"{app}/services", f"{app}/trial_sweeps"))
    ]

    assert [(f, m) for f, m in services if m == f"{app}.tasks"] == []


def test_no_task_shares_a_service_name() -> None:
    from celery import Task

    from membership import services, tasks
    from privacy import services as privacy_services
    from privacy import tasks as privacy_tasks

    for app_tasks, app_services in ((tasks, services), (privacy_tasks, privacy_services)):
        task_names = {name for name, value in vars(app_tasks).items() if isinstance(value, Task)}

        assert task_names
        assert task_names & set(app_services.__all__) == set()


# Which apps each app may import: ``web -> publishers -> gifts -> billing -> groups ->
# membership -> accounts``; app stores stand on membership beside billing (neither imports
# the other).
LOWER = {
    "accounts": set(),
    "membership": {"accounts"},
    "groups": {"membership", "accounts"},
    "billing": {"groups", "membership", "accounts"},
    "appstores": {"membership", "accounts"},
    "gifts": {"billing", "membership", "accounts"},
    "publishers": {"gifts", "billing", "appstores", "groups", "membership", "accounts"},
    "web": {"publishers", "gifts", "billing", "appstores", "groups", "membership", "accounts"},
}


@pytest.mark.parametrize("app", sorted(LOWER))
def test_apps_import_only_the_apps_below_them(app: str) -> None:
    forbidden = set(APPS) - LOWER[app] - {app}
    offenders = [(f, m) for f, m in _imported_modules(app) if _top(m) in forbidden]

    assert offenders == []


def test_the_app_store_sandbox_imports_none_of_the_apps() -> None:
    apps = {*APPS, "core", "config"}
    offenders = [(f, m) for f, m in _imported_modules("appstore_sandbox") if _top(m) in apps]

    assert offenders == []


def test_only_the_store_gateways_import_the_stores_libraries() -> None:
    libraries = {"appstoreserverlibrary", "google"}
    offenders = [
        (f, m)
        for app in APPS
        for f, m in _imported_modules(app)
        if _top(m) in libraries and not f.startswith("appstores/gateways/")
    ]

    assert offenders == []
