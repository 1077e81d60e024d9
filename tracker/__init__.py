"""tracker: record predictions and checkable claims, resolve them with evidence, score sources."""

from __future__ import annotations

__version__ = "0.1.0"
