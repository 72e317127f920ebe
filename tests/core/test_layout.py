"""Imports run one way: the apps stand on core, and config only wires them together."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "membership", "billing", "web"]


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
