"""The Secretariat's pages, inside the Airflow UI, in Arabic, English or French.

``auth``: who may see them (Airflow's login decides); ``frame``: the page's language and the
frame every staff page shares; ``routes``: the returns of each cycle, the original files and
the mail quarantine; ``review``: the review of lineage matches and themes. The consolidation
dashboard (``resotrack.consolidation.dashboard``) is mounted beside them with the same login
and the same language choice.
"""
