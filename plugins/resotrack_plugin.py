"""Mount the resotrack portal on Airflow's api-server at ``/resotrack`` and link its staff pages.

Focal points open ``/resotrack/t/{token}`` without an Airflow account (their link is their
credential); the Secretariat pages under ``/resotrack/staff/`` require Airflow's own login
(see ``resotrack.portal.staff.auth``) and open inside the Airflow UI from the links added here.
All behaviour lives in ``resotrack.portal``; this file only wires it in.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from resotrack.portal import PREFIX, create_app


class ResotrackPlugin(AirflowPlugin):
    name = "resotrack"
    fastapi_apps: list[dict[str, Any]] = [  # noqa: RUF012 (AirflowPlugin's own class attributes)
        {"app": create_app(), "url_prefix": PREFIX, "name": "resotrack portal"}
    ]
    external_views: list[dict[str, Any]] = [  # noqa: RUF012
        {
            "name": "Consolidation",
            "href": f"{PREFIX}/staff/dashboard/",
            "destination": "nav",
            "category": "browse",
            "url_route": "resotrack-dashboard",
        },
        {
            "name": "Returns",
            "href": f"{PREFIX}/staff/",
            "destination": "nav",
            "category": "browse",
            "url_route": "resotrack-returns",
        },
        {
            "name": "Mail quarantine",
            "href": f"{PREFIX}/staff/quarantine",
            "destination": "nav",
            "category": "browse",
            "url_route": "resotrack-quarantine",
        },
    ]
