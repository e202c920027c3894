"""Rotating ``RESOTRACK_SECRET_KEY``: retired keys still verify, only the new one signs.

A rotation moves the old key into ``RESOTRACK_PREVIOUS_SECRET_KEYS``: upload links already
mailed and questionnaires already dispatched keep working until that key is dropped; after
that they are refused, as after a compromise (rotate without keeping the old key).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from resotrack import tokens
from resotrack.intake.owner import Unidentified, identify_workbook
from resotrack.recovery.backup import key_fingerprint
from resotrack.recovery.restore import _key_warning
from resotrack.registry.models import FocalPoint
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.ingest import run
from resotrack.validation.quick import quick_check
from support.return_fixtures import KEY, World, filled, make_world, submission, submit

NEW = "the-key-after-rotation"


@pytest.fixture
def world(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", "9")  # nothing listens: mail stays queued
    get_settings.cache_clear()
    return make_world(tmp_path, entities=("SEN", "EGY"))


def _keys(monkeypatch: pytest.MonkeyPatch, current: str, *previous: str) -> None:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", current)
    monkeypatch.setenv("RESOTRACK_PREVIOUS_SECRET_KEYS", json.dumps(list(previous)))
    get_settings.cache_clear()


def _issue(world: World) -> str:
    with session_scope() as session:
        person = session.get(FocalPoint, world.focal_points["SEN"])
        assert person is not None
        return tokens.issue(session, person, world.cycle_id)


def _verify(token: str) -> Any:
    with session_scope() as session:
        return tokens.verify(session, token)


def test_an_upload_link_outlives_the_rotation_until_its_key_is_dropped(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _issue(world)
    _keys(monkeypatch, NEW, KEY)
    assert _verify(old).entity_code == "SEN"
    new = _issue(world)
    _keys(monkeypatch, NEW)  # the old key retired for good
    assert _verify(new).entity_code == "SEN"
    with pytest.raises(tokens.TokenRefused) as refused:
        _verify(old)
    assert refused.value.reason == "forged"
    _keys(monkeypatch, KEY)  # and links signed after the rotation never carried the old key
    with pytest.raises(tokens.TokenRefused):
        _verify(new)


def test_a_questionnaire_signed_before_the_rotation_is_still_ours(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = filled(world)  # signed with KEY, as dispatched before the rotation
    _keys(monkeypatch, NEW, KEY)
    assert identify_workbook(before).entity_code == "SEN"
    # The portal's check at upload time says the same as the ingest will.
    quick = quick_check(before, expected_entity="SEN", expected_cycle=world.cycle_id)
    assert quick.outcome == "ok", quick.problems
    accepted = submit(world, before)
    [result] = run(accepted, send=False, docs=False)
    assert result["outcome"] == "accepted", submission(accepted).report
    after = filled(world, "EGY", key=NEW)
    assert identify_workbook(after).entity_code == "EGY"

    _keys(monkeypatch, NEW)
    with pytest.raises(Unidentified):
        identify_workbook(before)
    quick = quick_check(before, expected_entity="SEN", expected_cycle=world.cycle_id)
    assert [p["rule"] for p in quick.problems] == ["identify.meta_altered"]
    refused = submit(world, filled(world, "EGY"), "EGY")
    [result] = run(refused, send=False, docs=False)
    assert result["outcome"] == "refused"
    rules = [p["rule"] for p in submission(refused).report["problems"]]
    assert rules == ["identify.meta_altered"]


def test_a_restore_knows_a_retired_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.json").write_text(
        json.dumps({"secret_key": {"fingerprint": key_fingerprint(KEY)}}), "utf-8"
    )
    manifest: Any = SimpleNamespace(settings="settings.json")
    _keys(monkeypatch, NEW)
    assert _key_warning(tmp_path, manifest)  # links made with KEY would be refused
    _keys(monkeypatch, NEW, KEY)
    assert _key_warning(tmp_path, manifest) == []
