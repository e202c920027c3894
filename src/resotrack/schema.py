"""Every table of the application: importing this module fills ``Base.metadata`` whole.

Each stage keeps its tables in its own ``models`` module (see ``resotrack.store.models`` for the
list). Relationships between stages name their class by string, so the classes must all be
known before SQLAlchemy configures the mappers, creates the schema or compares it with the
migrations: ``resotrack.store.db.load_models()`` imports this module by name, because the store,
the bottom layer, may not import a stage.
"""

from __future__ import annotations

import resotrack.consolidation.models
import resotrack.intake.models
import resotrack.mail.models
import resotrack.portal.models
import resotrack.publicsite.models
import resotrack.questionnaires.models
import resotrack.registry.models
import resotrack.resolutions.models
import resotrack.tokens.models
import resotrack.validation.models  # noqa: F401
from resotrack.store.models import Base

metadata = Base.metadata

__all__ = ["metadata"]
