"""news-monitor: a streaming news-monitoring worker."""

__version__ = "0.1.0"
