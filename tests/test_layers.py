"""The import contract, written down once: which package may import which, checked on every module.

Packages sit in layers; a module may import its own package, any package in a lower layer and
nothing else (not a sibling in its own layer, not anything above). Of the composition root only the
frozen settings type may be imported by a library package: ``yuqing`` builds the adapters (brokers,
archives, the ledger's unit of work) and hands them in. The development tools (``bench``,
``demo_site``) sit outside the service: nothing in it imports them, except the commands that run
them, lazily. ``docs/architecture.md`` draws the same picture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("stream", "archive", "response_ledger"),
    ("classifiers", "crawlers"),
    ("briefing",),
    ("dashboard",),
    ("yuqing",),
)
# The one module of the composition root a library package may import: the settings type.
SHARED_ROOT_MODULES = frozenset({"yuqing.settings"})
TOOLS = ("bench", "demo_site")
TOOL_USERS = frozenset({"yuqing.commands.bench", "yuqing.commands.crawl", "yuqing.service"})
LAYER_OF = {package: index for index, layer in enumerate(LAYERS) for package in layer}


def _package_dir(package: str) -> Path:
    if package in TOOLS:
        return ROOT / "devtools" / package
    return ROOT / package


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    base = _package_dir(package)
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(base.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(path: Path, module: str) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name, node.lineno
            for alias in node.names:  # ``from yuqing import backends`` imports yuqing.backends
                yield f"{name}.{alias.name}", node.lineno


def _violation(module: str, imported: str) -> str | None:
    own = module.split(".")[0]
    target = imported.split(".")[0]
    if target == own or (target not in LAYER_OF and target not in TOOLS):
        return None  # its own package, the standard library or a third-party package
    if own in TOOLS:
        return None  # the tools sit above the service and drive all of it
    if target in TOOLS:
        return None if module in TOOL_USERS else "a development tool, outside the service"
    if target == "yuqing" and own != "yuqing":
        if imported == "yuqing" or any(
            imported == m or imported.startswith(f"{m}.") for m in SHARED_ROOT_MODULES
        ):
            return None  # the settings type (``from yuqing import settings`` names the package too)
        return "the composition root: it hands adapters in, libraries never reach for them"
    if LAYER_OF[target] >= LAYER_OF[own]:
        return "a package in the same or a higher layer"
    return None


@pytest.mark.parametrize("package", [p for layer in LAYERS for p in layer] + list(TOOLS))
def test_every_import_runs_down_the_layers(package: str) -> None:
    broken = []
    for module, path in _modules(package):
        for imported, line in _imports(path, module):
            if (why := _violation(module, imported)) is not None:
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {imported}: {why}")
    assert not broken, "\n".join(broken)


def test_the_core_imports_only_the_standard_library() -> None:
    import sys

    broken = []
    for module, path in _modules("core"):
        for imported, line in _imports(path, module):
            top = imported.split(".")[0]
            if top not in sys.stdlib_module_names and top != "core" and top != "__future__":
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not broken, "\n".join(broken)


def test_the_contract_catches_an_upward_import(tmp_path: Path) -> None:
    # The checker itself must be able to fail: a crawler reaching for the backends, an archive
    # module importing the dashboard, and a sibling import in one layer are all caught.
    assert _violation("crawlers.pipelines", "yuqing.backends") is not None
    assert _violation("archive.export", "dashboard.labels") is not None
    assert _violation("stream.stages", "archive.base") is not None
    assert _violation("classifiers.features", "archive.tokens") is None
    assert _violation("dashboard.app", "yuqing.settings") is None
    assert _violation("dashboard.app", "yuqing.settings.Settings") is None
    assert _violation("crawlers.runner", "demo_site") is not None
