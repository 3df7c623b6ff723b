"""``python -m aso.schemagen [--check] [--sdk PIN] PLUGIN_DIR...``: generate schema data in this
environment (which must hold the pinned SDK). ``aso schemas`` runs it in a throwaway venv."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aso.schemagen.config import CONFIG_FILE
from aso.schemagen.convert import SchemaGenError
from aso.schemagen.generate import generate_plugin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aso.schemagen",
        description="Generate <package>/schemas/*.json of each plugin from its schemagen.yaml "
        "and the pinned Azure SDK model classes.",
    )
    parser.add_argument("plugin_dirs", nargs="+", type=Path, metavar="PLUGIN_DIR")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    parser.add_argument("--sdk", default=None, help="only the versions pinned to this name==version")
    args = parser.parse_args(argv)
    stale = False
    for plugin_dir in args.plugin_dirs:
        if not (plugin_dir / CONFIG_FILE).is_file():
            # nox passes every plugin; one whose schemas are not generated has nothing to do.
            print(f"skipped {plugin_dir}: no {CONFIG_FILE}")
            continue
        try:
            changed = generate_plugin(plugin_dir, check=args.check, sdk=args.sdk)
        except SchemaGenError as error:
            print(f"schemagen: {plugin_dir}: {error}", file=sys.stderr)
            return 2
        for path in changed:
            print(f"{'stale' if args.check else 'wrote'} {path}")
        stale = stale or bool(changed)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
