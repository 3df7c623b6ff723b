"""``python -m aso.schemagen [--check] [--sdk PIN] PLUGIN_DIR...``: generate schema data in this
environment (which must hold the pinned SDK). ``aso schemas`` runs it in a throwaway venv."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aso.schemagen.config import CONFIG_FILE
from aso.schemagen.convert import SchemaGenError
from aso.schemagen.generate import generate_plugin


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("plugin_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="write nothing; exit 1 if a file is stale")
@click.option("--sdk", default=None, help="only the versions pinned to this name==version")
def generate(plugin_dirs: tuple[Path, ...], check: bool, sdk: str | None) -> int:
    """Generate <package>/schemas/*.json of each plugin from its schemagen.yaml and the pinned
    Azure SDK model classes."""
    stale = False
    for plugin_dir in plugin_dirs:
        if not (plugin_dir / CONFIG_FILE).is_file():
            # nox passes every plugin; one whose schemas are not generated has nothing to do.
            click.echo(f"skipped {plugin_dir}: no {CONFIG_FILE}")
            continue
        try:
            changed = generate_plugin(plugin_dir, check=check, sdk=sdk)
        except SchemaGenError as error:
            click.echo(f"schemagen: {plugin_dir}: {error}", err=True)
            return 2
        for path in changed:
            click.echo(f"{'stale' if check else 'wrote'} {path}")
        stale = stale or bool(changed)
    return 1 if check and stale else 0


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done, 1 stale (with --check), 2 an error (bad arguments included)."""
    try:
        code = generate.main(args=argv, prog_name="python -m aso.schemagen", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return 2
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
