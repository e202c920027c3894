"""Registry: reporting entities (member states, institutions) and their focal points.

Each name is imported on first use (``lazy_loader``), not when the package loads: every
process that opens the database loads each stage's tables, and most need few of these modules.
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from resotrack.registry.entities import list_entities, shipped_entities, sync_entities
    from resotrack.registry.focal_points import (
        FocalPointImport,
        FocalPointImportError,
        import_focal_points,
    )

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "entities": ["list_entities", "shipped_entities", "sync_entities"],
        "focal_points": ["FocalPointImport", "FocalPointImportError", "import_focal_points"],
    },
)

__all__ = [
    "FocalPointImport",
    "FocalPointImportError",
    "import_focal_points",
    "list_entities",
    "shipped_entities",
    "sync_entities",
]
