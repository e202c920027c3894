"""resotrack: follow up what intergovernmental resolutions ask states to do."""

__version__ = "0.1.0"
