"""Generator of the committed CRD schema data of plugins (``aso schemas PLUGIN_DIR``).

Reads ``<plugin dir>/schemagen.yaml``, imports the pinned Azure SDK model class of each
kind and version (in a throwaway venv holding that release, see :mod:`aso.schemagen.envs`),
and writes ``<package>/schemas/<kind>.<version>.json``. The operator and ``aso crds`` read
those JSON files and never import this package or any azure-mgmt-* package; see README.md
for the formats.
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
