"""Validation settings (``RESOTRACK_VALIDATION_*``) and where the declarative rules live.

The limits bound what a hostile workbook can make a reader do; the defaults are generous for
a questionnaire (12 columns, a few hundred rows, tens of kilobytes) and tight for anything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from resotrack.settings import get_settings

PACKAGED: Final = Path(__file__).resolve().parents[1] / "rules"  # inside an installed wheel
CHECKOUT: Final = Path(__file__).resolve().parents[3]  # the repository, for an editable install
MiB: Final = 1024 * 1024


def rule_file(folder: str, name: str) -> Path:
    """A declarative rule file: the copy the wheel ships (``resotrack/rules/``, see
    pyproject's force-include), else the repository's own (``schemas/``, ``expectations/``).

    Why both: the image installs resotrack as a wheel, where the repository is not there;
    a checkout runs the files staff edit, with no copy to keep in step.
    """
    packaged = PACKAGED / folder / name
    return packaged if packaged.is_file() else CHECKOUT / folder / name


class ValidationSettings(BaseSettings):
    """Override any field with ``RESOTRACK_VALIDATION_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="RESOTRACK_VALIDATION_", extra="ignore")

    contract: Path = Field(
        default_factory=lambda: rule_file("schemas", "return_contract.yaml"),
        description="The pandera contract of a returned workbook (YAML, readable by staff).",
    )
    suite: Path = Field(
        default_factory=lambda: rule_file("expectations", "return_quality.json"),
        description="The Great Expectations suite run on accepted-shaped returns.",
    )
    # The package, before any parser sees it.
    max_file_bytes: int = Field(default=20 * MiB, gt=0)
    max_entries: int = Field(default=300, gt=0, description="Parts in the zip package.")
    max_total_uncompressed: int = Field(default=100 * MiB, gt=0)
    max_entry_uncompressed: int = Field(default=50 * MiB, gt=0)
    max_ratio: float = Field(default=100.0, gt=1, description="Inflated/compressed per part.")
    ratio_floor: int = Field(
        default=4 * MiB,
        gt=0,
        description="Parts smaller than this once inflated are not held to max_ratio "
        "(a 1 MB cell of repeated text compresses 1000:1 and is not a bomb).",
    )
    max_rows: int = Field(default=5000, gt=0, description="Rows of a sheet, by its extent.")
    max_cols: int = Field(default=64, gt=0, description="Columns of a sheet, by its extent.")
    max_sheets: int = Field(default=64, gt=0)
    # The reader processes.
    workers: int = Field(default=2, ge=1, description="Sandboxed reader processes.")
    memory_mb: int = Field(default=768, ge=64, description="RLIMIT_AS of a reader process.")
    timeout_seconds: float = Field(default=15.0, gt=0, description="Per file, then killed.")
    # The ingest sweep.
    batch_size: int = Field(default=200, ge=1, description="Submissions validated together.")
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A claim not renewed for this long was left by a dead worker (a live run "
        "renews its claims every quarter of it).",
    )
    # The warm validation service used by the Airflow task (see service.py).
    use_service: bool = Field(
        default=True,
        description="Let the ingest task hand its work to the warm service (False: in-process). "
        "Read by resotrack.validation.entry straight from the environment.",
    )
    service_idle_seconds: float = Field(default=900.0, gt=0)
    service_start_timeout: float = Field(default=90.0, gt=0)


def settings() -> ValidationSettings:
    """The process's validation settings, a section of ``resotrack.settings.get_settings()``
    (made again when the ``RESOTRACK_*`` environment changes)."""
    return get_settings().section(ValidationSettings)


def contract_path() -> Path:
    return settings().contract


def suite_path() -> Path:
    return settings().suite


__all__ = ["ValidationSettings", "contract_path", "rule_file", "settings", "suite_path"]
