"""The command line starts light: a stage's heavy libraries load only for the commands that
use them, and every name a stage package exports (lazily) still resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "matplotlib", "docx", "openpyxl", "pandera", "great_expectations", "scipy")


def test_loading_the_command_line_loads_no_heavy_library() -> None:
    probe = f"import sys, resotrack.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize(
    "package",
    [
        "resotrack.intake",
        "resotrack.mail",
        "resotrack.publicsite",
        "resotrack.questionnaires",
        "resotrack.registry",
        "resotrack.resolutions",
    ],
)
def test_every_exported_name_of_a_lazy_package_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []
    assert sorted(module.__dir__()) == sorted(module.__all__)


def test_a_fresh_process_can_query_one_stages_table_on_its_own_engine(tmp_path: Path) -> None:
    """A backup makes its own engine and queries one stage's table: SQLAlchemy then resolves
    relationships named by string in other stages' modules, which must be loaded by then."""
    from sqlalchemy import create_engine

    from resotrack.store.db import load_models
    from resotrack.store.models import Base

    load_models()
    Base.metadata.create_all(create_engine(f"sqlite:///{tmp_path / 'probe.db'}"))
    probe = (
        "from sqlalchemy import create_engine, select\n"
        "from sqlalchemy.orm import Session\n"
        "from resotrack.questionnaires.models import Questionnaire\n"
        f"engine = create_engine('sqlite:///{tmp_path / 'probe.db'}')\n"
        "with Session(engine) as s:\n"
        "    print(len(s.scalars(select(Questionnaire)).all()))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "0"
