"""``make demo``: the whole resotrack story on the seed resolutions, on one machine.

``python -m resotrack.demo`` (see ``run.py``) starts Airflow standalone and a mail sink, sets up
the world with the real domain functions, lets simulated focal points use the real portal over
HTTP, and stops everything it started at the end. Nothing here is imported by the product.
"""
