"""Consolidation: implementation tables, workbook, charts, HTML and Word reports, versioned
builds, staff review of returns, approval and publication.

Modules are imported where used (pandas and matplotlib are not free): ``tables`` (pure pandas),
``export_xlsx``, ``charts``, ``report_html``, ``report_docx``, ``builds``, ``review``,
``publish``, ``dashboard`` (a router for the portal) and ``cli`` (``register(app)``).
"""
