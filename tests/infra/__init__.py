"""Helpers of the infra tests (tests/test_infra_*.py): infra/ is not a package, so its Python
files are loaded from their paths."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"


def load(name: str, path: Path):
    """Import the module at path under name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


checks = load("infra_checks", INFRA / "checks.py")
