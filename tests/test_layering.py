"""The package's layers, read from the source: framework/ below ops/ below runtime/, and no circles.

Every import statement counts, at the top of a module or inside a function
(a lazy import is still a dependency), and so does `importlib.import_module`
or `__import__` of a literal name.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "caudal"


def _imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """The modules that `source`, the code of `module`, imports, by absolute name.

    `from P import N` names both P and P.N (N may be a module or a name in P).
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                source_module = ".".join(base + ([node.module] if node.module else []))
            else:
                source_module = node.module or ""
            found.add(source_module)
            found.update(f"{source_module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                found.add(node.args[0].value)
    return found


def _imported_modules(path: Path) -> set[str]:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    is_package = parts[-1] == "__init__"
    module = ".".join(parts[:-1] if is_package else parts)
    return _imports(path.read_text(), module, is_package)


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


FRAMEWORK_MODULES = sorted((PACKAGE / "framework").glob("*.py"))


def test_the_import_reader_sees_lazy_relative_and_dynamic_imports():
    source = ("import os\n"
              "def f():\n"
              "    from caudal.ops.math_ops import add\n"
              "    from ..runtime import session\n"
              "    from caudal import ops\n"
              "    importlib.import_module('caudal.ops.array_ops')\n")
    names = _imports(source, "caudal.framework.probe")
    assert {"os", "caudal.ops.math_ops", "caudal.runtime.session", "caudal.ops", "caudal.ops.array_ops"} <= names
    assert {p.name for p in FRAMEWORK_MODULES} >= {"__init__.py", "graph.py", "tensor.py", "convert.py"}


@pytest.mark.parametrize("path", FRAMEWORK_MODULES, ids=lambda p: p.name)
def test_framework_imports_neither_ops_nor_runtime(path):
    upward = sorted(name for name in _imported_modules(path)
                    if _within(name, "caudal.ops") or _within(name, "caudal.runtime"))
    assert not upward, (f"caudal/framework/{path.name} imports {upward}: the framework is the bottom layer; "
                        "the layer above registers what the framework needs from it (a hook) instead")


def test_saver_and_meta_graph_do_not_import_each_other():
    saver = _imported_modules(PACKAGE / "train" / "saver.py")
    meta_graph = _imported_modules(PACKAGE / "train" / "meta_graph.py")
    saver_uses_meta_graph = any(_within(name, "caudal.train.meta_graph") for name in saver)
    meta_graph_uses_saver = any(_within(name, "caudal.train.saver") for name in meta_graph)
    assert not (saver_uses_meta_graph and meta_graph_uses_saver), \
        "caudal/train/saver.py and caudal/train/meta_graph.py import each other"


def test_the_meta_graph_writer_is_below_the_saver():
    """The Saver writes `.meta` files with caudal.train.meta_graph_export, which imports neither
    the Saver nor caudal.train.meta_graph (which imports the Saver)."""
    writer = _imported_modules(PACKAGE / "train" / "meta_graph_export.py")
    upward = sorted(name for name in writer
                    if _within(name, "caudal.train.saver") or _within(name, "caudal.train.meta_graph"))
    assert not upward
