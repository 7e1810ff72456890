"""The one service skeleton (docs/architecture.md, "A service's layout"), checked on the code:
every service has the same parts, its domain imports neither HTTP nor the database driver, and
only ``api/`` answers with a ``Problem`` (the rest raises ``slrt.errors``)."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import APIRouter

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "routing", "registry", "notifier", "dashboard")
NOT_IN_DOMAIN = ("fastapi", "starlette", "httpx", "asyncpg")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_parts(service: str) -> None:
    folder = ROOT / "services" / service
    for part in ("app.py", "settings.py", "consumers.py", "api/__init__.py", "migrations"):
        assert (folder / part).exists(), f"services/{service}/{part}"
    for part in ("domain", "store"):
        assert (folder / f"{part}.py").exists() or (folder / part / "__init__.py").exists(), (
            f"services/{service}/{part}"
        )
    assert not (folder / "db.py").exists(), "persistence is called store"


@pytest.mark.parametrize("service", SERVICES)
def test_api_lists_its_routers_and_consumers_take_runtime_and_settings(service: str) -> None:
    api = __import__(f"services.{service}.api", fromlist=["routers"])
    assert all(isinstance(r, APIRouter) for r in api.routers)
    if api.routers:  # routes take what they need from one deps module
        assert (ROOT / "services" / service / "api" / "deps.py").exists()
    consumers = __import__(f"services.{service}.consumers", fromlist=["consumers"]).consumers
    assert list(inspect.signature(consumers).parameters)[:2] == ["runtime", "settings"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_imports_no_http_and_no_sql(service: str) -> None:
    probe = (
        f"import sys, services.{service}.domain as d, pkgutil, importlib\n"
        "for m in pkgutil.iter_modules(getattr(d, '__path__', [])):\n"
        "    importlib.import_module(d.__name__ + '.' + m.name)\n"
        f"print(sorted({{k.split('.')[0] for k in sys.modules}} & set({NOT_IN_DOMAIN!r})))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout.strip() == "[]"


def _raises_problem(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Problem"
    ]


def test_only_the_api_layer_builds_problems() -> None:
    below = [
        path
        for path in [*(ROOT / "services").rglob("*.py"), *(ROOT / "slrt").rglob("*.py")]
        if "api" not in path.relative_to(ROOT).parts[:3] and path.name != "problems.py"
    ]
    found = {str(p.relative_to(ROOT)): lines for p in below if (lines := _raises_problem(p))}
    assert found == {}


def test_every_middleware_is_plain_asgi() -> None:
    """No ``BaseHTTPMiddleware`` (``app.middleware("http")`` is one): it runs every request in an
    extra task with memory streams; it was half of intake's CPU time (docs/benchmarks.md)."""
    offenders = []
    for path in [*(ROOT / "slrt").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            named = isinstance(node, ast.Name | ast.Attribute | ast.alias) and (
                "BaseHTTPMiddleware"
                in (
                    getattr(node, "id", None),
                    getattr(node, "attr", None),
                    getattr(node, "name", None),
                )
            )
            decorator = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "middleware"
                and any(isinstance(a, ast.Constant) and a.value == "http" for a in node.args)
            )
            if named or decorator:
                offenders.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}")
    assert offenders == []
