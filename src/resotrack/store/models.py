"""The declarative base every table shares (one ``MetaData``, one naming convention) and the
audit log.

Each stage owns the tables it writes, in its own ``models`` module; one Alembic history still
covers the whole schema because every table hangs off this ``Base.metadata``:

==========================  =====================================================================
``resotrack.store.models``  Base, AuditLog (written by ``resotrack.audit``)
``resolutions.models``      Resolution, ResolutionVersion, Section, OperativeParagraph, Action,
                            RoutingOverride, ParagraphLineage, ParagraphTheme
``registry.models``         ReportingEntity, FocalPoint
``questionnaires.models``   ReportingCycle, CycleResolution, Questionnaire
``tokens.models``           UploadToken (written by ``resotrack.tokens`` alone)
``mail.models``             OutboxMessage
``validation.models``       Submission, Answer
``intake.models``           InboundMail, IntakeAttempt
``consolidation.models``    ReportBuild, ReportEdit, SubmissionReview
``portal.models``           UploadAttempt
``publicsite.models``       PublicationConsent
==========================  =====================================================================

The store is the bottom layer and imports no stage: ``resotrack.schema`` imports every
``models`` module, and ``resotrack.store.db.load_models()`` imports it (by name) before an
engine is made, the schema created or a migration compared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from resotrack import clock

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
    }


# --- resolutions -------------------------------------------------------------------------


class AuditLog(Base):
    """Every state change, with who and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
