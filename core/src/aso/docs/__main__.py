"""``python -m aso.docs``: print the plugin author guide."""

from aso.docs import guide

print(guide(), end="")
