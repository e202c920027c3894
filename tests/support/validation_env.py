"""A validation test world that lives for a whole test module (a helper, not a test module).

The conftest's ``db_url`` gives each *test* a fresh database; the hostile-input cases run by
the dozen against one world per backend instead (each case is one more submission, and
asserts its own effect), so that setting up seed 004 and four questionnaires is paid twice
per module, not twice per case.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import clone_database
from resotrack.settings import get_settings
from resotrack.store import reset_engines
from support.return_fixtures import KEY, World, make_world


def module_world(
    request: pytest.FixtureRequest, tmp: Path, extra_env: dict[str, str] | None = None
) -> Iterator[World]:
    """A migrated database (``request.param``: sqlite or postgresql) with a test world."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RESOTRACK_HOME", str(tmp / "var"))
        mp.setenv("RESOTRACK_SECRET_KEY", KEY)
        mp.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
        for name, value in (extra_env or {}).items():
            mp.setenv(name, value)
        url, cleanup = clone_database(request, tmp)
        mp.setenv("RESOTRACK_DATABASE_URL", url)
        get_settings.cache_clear()
        reset_engines()
        try:
            yield make_world(tmp)
        finally:
            reset_engines()
            get_settings.cache_clear()
            if cleanup:
                cleanup()
