"""The notebook front end: the only package that imports ipywidgets, anywidget and IPython."""

from .studio import Studio
from .views.live import LiveFeed, LiveMonitor

__all__ = ["LiveFeed", "LiveMonitor", "Studio"]
