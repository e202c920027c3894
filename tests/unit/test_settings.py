"""One settings object per process: the root and the stages' sections are built once, and
made again only when the ``RESOTRACK_*`` environment changes (or a test resets them)."""

from __future__ import annotations

import pytest

from resotrack.intake.config import IntakeSettings, intake_settings
from resotrack.mail.config import MailSettings, mail_settings
from resotrack.recovery.config import RecoverySettings, recovery_settings
from resotrack.settings import get_settings, reset_settings
from resotrack.validation import config as validation_config
from resotrack.validation.config import ValidationSettings


def test_the_root_and_its_sections_are_built_once() -> None:
    reset_settings()
    root = get_settings()
    assert get_settings() is root
    for accessor, kind in [
        (mail_settings, MailSettings),
        (intake_settings, IntakeSettings),
        (recovery_settings, RecoverySettings),
        (validation_config.settings, ValidationSettings),
    ]:
        first = accessor()
        assert isinstance(first, kind)
        assert accessor() is first is root.section(kind)


def test_a_changed_environment_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", "2525")
    monkeypatch.setenv("RESOTRACK_VALIDATION_MAX_ROWS", "77")
    before = get_settings()
    assert mail_settings().smtp_port == 2525
    assert validation_config.settings().max_rows == 77
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", "2626")
    assert get_settings() is not before
    assert mail_settings().smtp_port == 2626
    assert validation_config.settings().max_rows == 77
    monkeypatch.delenv("RESOTRACK_VALIDATION_MAX_ROWS")
    assert (
        validation_config.settings().max_rows == ValidationSettings.model_fields["max_rows"].default
    )


def test_reset_forgets_the_sections() -> None:
    section = mail_settings()
    reset_settings()
    assert mail_settings() is not section
    assert mail_settings() == section  # the same environment, read again
