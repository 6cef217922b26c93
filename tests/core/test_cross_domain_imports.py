"""Domains call each other lazily (inside functions, some guarded by `except ImportError` from the
time they were built apart). Now every domain ships together, a guarded import that fails would
silently skip an email, a cancellation or a check: every one of them must resolve."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import rj

PACKAGE = Path(rj.__file__).parent


def _guarded_imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            catches_import_error = any(
                isinstance(h.type, ast.Name) and h.type.id in {"ImportError", "ModuleNotFoundError"}
                or isinstance(h.type, ast.Tuple) and any(getattr(e, "id", "") == "ImportError" for e in h.type.elts)
                for h in node.handlers)
            if not catches_import_error:
                continue
            for stmt in node.body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.ImportFrom) and sub.module and sub.module.startswith("rj"):
                        for alias in sub.names:
                            yield f"{path.relative_to(PACKAGE.parent)}:{sub.lineno}", sub.module, alias.name


def test_every_guarded_cross_domain_import_resolves():
    found, missing = 0, []
    for where, module, name in _guarded_imports():
        found += 1
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{where}: {module} ({exc})")
            continue
        if not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{where}: {module}.{name}")
    assert found > 0
    assert missing == []
