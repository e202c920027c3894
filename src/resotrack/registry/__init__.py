"""Registry: reporting entities (member states, institutions) and their focal points."""

from resotrack.registry.entities import list_entities, shipped_entities, sync_entities
from resotrack.registry.focal_points import (
    FocalPointImport,
    FocalPointImportError,
    import_focal_points,
)

__all__ = [
    "FocalPointImport",
    "FocalPointImportError",
    "import_focal_points",
    "list_entities",
    "shipped_entities",
    "sync_entities",
]
