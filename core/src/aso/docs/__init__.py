"""Documentation shipped with aso-core: the plugin author guide (``python -m aso.docs``)."""

from __future__ import annotations

import importlib.resources

__all__ = ["GUIDE", "guide"]

GUIDE = "plugin-guide.md"


def guide() -> str:
    """The text of the plugin author guide (Markdown)."""
    return (importlib.resources.files(__name__) / GUIDE).read_text(encoding="utf-8")
