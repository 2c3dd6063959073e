"""The notebook front end: the only package that imports ipywidgets, anywidget and IPython."""

from .live import LiveFeed, LiveMonitor
from .studio import Studio

__all__ = ["LiveFeed", "LiveMonitor", "Studio"]
