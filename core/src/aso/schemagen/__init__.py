"""Dev-only generator of the committed CRD schema data of plugins.

Reads ``plugins/<service>/schemagen.yaml``, imports the pinned Azure SDK model class
of each kind and version, and writes ``<package>/schemas/<kind>.<version>.json``.
The operator and ``aso crds`` read those JSON files and never import this package
or any azure-mgmt-* package. Run it with ``nox -s schemas`` or
``python -m aso.schemagen plugins/<service> [...]``; see README.md for the formats.
"""

from aso.schemagen.convert import PropertyFacts, SchemaGenError, build_schemas
from aso.schemagen.generate import generate_plugin, render_document
from aso.schemas import strip_extensions

__all__ = [
    "PropertyFacts",
    "SchemaGenError",
    "build_schemas",
    "generate_plugin",
    "render_document",
    "strip_extensions",
]
