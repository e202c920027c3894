"""The public read-only site: static pages from approved report builds only (``site.py``).

Nothing is imported here: the command line loads this package for every command, and the site
builder pulls in the consolidation's tables (pandas), which only ``resotrack site build`` needs.
"""
