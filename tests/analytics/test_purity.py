"""The metrics core, the export helper and the charts stay pure: no Django, no platform, no other app."""

from __future__ import annotations

import ast
from pathlib import Path

import q2c.analytics

ROOT = Path(q2c.analytics.__file__).parent
ALLOWED_Q2C = ("q2c.core", "q2c.analytics.metrics")
FORBIDDEN_THIRD_PARTY = ("django", "ninja")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_the_metrics_package_and_export_import_only_the_core_among_q2c_packages():
    files = [*sorted((ROOT / "metrics").glob("*.py")), ROOT / "export.py", ROOT / "charts.py"]
    assert len(files) >= 6
    for path in files:
        for name in _imports(path):
            if name.startswith("q2c"):
                assert name.startswith(ALLOWED_Q2C), f"{path.name} imports {name}"
            assert not name.startswith(FORBIDDEN_THIRD_PARTY), f"{path.name} imports {name}"
