"""The command line starts light: a stage's heavy libraries load only for the commands that
use them, and every name a stage package exports (lazily) still resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

HEAVY = ("pandas", "matplotlib", "docx", "openpyxl", "pandera", "great_expectations", "scipy")


def test_loading_the_command_line_loads_no_heavy_library() -> None:
    probe = f"import sys, resotrack.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("package", ["resotrack.intake", "resotrack.resolutions"])
def test_every_exported_name_of_a_lazy_package_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []
    assert sorted(module.__dir__()) == sorted(module.__all__)
