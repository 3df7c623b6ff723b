"""Test-only kinds, registered in-process through the public plugin API (never installed).

``Widget`` (``test.aso.dev``) proves what ResourceGroup cannot: an enum, a field renamed between
versions by converters, a field only one version has (kept in the property bag), exports through a
POST action, and a resource-group owner. Its schema data is hand-written test data.
"""
