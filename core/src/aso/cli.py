"""The ``aso`` command line."""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

import click

from aso import __version__
from aso.host import Registry, load_registry
from aso.logs import configure_logging


def _registry() -> Registry:
    return load_registry()


def _plugin_rows(registry: Registry) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for plugin in registry.plugins:
        rows.append(
            {
                "plugin": plugin.name,
                "distribution": plugin.distribution,
                "version": plugin.version,
                "kinds": [
                    {
                        "group": kind.group,
                        "kind": kind.kind,
                        "versions": [v.name for v in kind.versions],
                        "storageVersion": kind.storage_version,
                        "armType": kind.arm_type,
                    }
                    for kind in sorted(plugin.kinds, key=lambda k: (k.group, k.kind))
                ],
                "armProfiles": sorted(profile.type for profile in plugin.profiles),
                "problems": list(plugin.problems),
            }
        )
    return rows


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="Logging level of aso's own messages (stderr).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log line format; every line about an object names its kind, namespace and name.",
)
def cli(log_level: str, log_format: str) -> None:
    """aso: provision Azure resources from Kubernetes custom resources."""
    configure_logging(log_level, log_format)


@cli.command()
def version() -> None:
    """Print the version of aso-core."""
    click.echo(f"aso-core {__version__}")


@cli.command()
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def plugins(output: str) -> None:
    """List the installed plugins, their kinds, versions and ARM emulator profiles, what of them was
    skipped and why, and the plugins that were skipped."""
    registry = _registry()
    rows = _plugin_rows(registry)
    if output == "json":
        doc = {"plugins": rows, "skipped": [{"plugin": s.name, "reason": s.reason} for s in registry.skipped]}
        click.echo(json.dumps(doc, indent=2))
        return
    header = ("PLUGIN", "DISTRIBUTION", "VERSION", "GROUP", "KIND", "VERSIONS", "STORAGE")
    table: list[tuple[str, ...]] = [header]
    for row in rows:
        for kind in row["kinds"] or [{"group": "-", "kind": "-", "versions": ["-"], "storageVersion": "-"}]:
            table.append(
                (
                    row["plugin"],
                    row["distribution"],
                    row["version"],
                    kind["group"],
                    kind["kind"],
                    ",".join(kind["versions"]),
                    kind["storageVersion"],
                )
            )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    profiles = [(row["plugin"], t) for row in rows for t in row["armProfiles"]]
    if profiles:
        click.echo("\nARM EMULATOR PROFILES")
        for plugin, profile_type in profiles:
            click.echo(f"{plugin}  {profile_type}")
    problems = [(row["plugin"], p) for row in rows for p in row["problems"]]
    if problems:
        click.echo("\nPROBLEMS")
        for plugin, problem in problems:
            click.echo(f"{plugin}: {problem}")
    for skipped in registry.skipped:
        click.echo(f"skipped: {skipped.name}: {skipped.reason}", err=True)


@cli.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    help="Directory to write one <plural>.<group>.yaml per CRD into.",
)
def crds(out: pathlib.Path) -> None:
    """Write the CustomResourceDefinitions of the installed plugins."""
    from aso.crd import write_crds

    written = write_crds(_registry(), out)
    click.echo(f"wrote {len(written)} CRD(s) to {out}")


@cli.command()
@click.argument(
    "plugin_dirs",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path),
    metavar="PLUGIN_DIR...",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a committed schema file is stale.")
@click.option(
    "--current-env",
    is_flag=True,
    help="Run the generator in this environment (it must hold the pinned SDK) instead of a throwaway venv.",
)
def schemas(plugin_dirs: tuple[pathlib.Path, ...], check: bool, current_env: bool) -> None:
    """Generate a plugin's CRD schema data from the Azure SDK release pinned in its schemagen.yaml.

    For each distinct pin, installs that release into a throwaway venv (uv when on PATH, else
    the stdlib venv) and writes <package>/schemas/<kind>.<version>.json into the plugin's
    package. See the plugin author guide (`python -m aso.docs`) for the configuration.
    """
    from aso.schemagen.__main__ import main as generate_here
    from aso.schemagen.config import CONFIG_FILE
    from aso.schemagen.convert import SchemaGenError
    from aso.schemagen.envs import generate_in_throwaway_envs

    status = 0
    for plugin_dir in plugin_dirs:
        if not (plugin_dir / CONFIG_FILE).is_file():
            click.echo(f"skipped {plugin_dir}: no {CONFIG_FILE}")
            continue
        if current_env:
            code = generate_here([*(["--check"] if check else []), str(plugin_dir)])
            if code == 2:
                sys.exit(2)
            status = max(status, code)
            continue
        try:
            code, lines = generate_in_throwaway_envs(plugin_dir, check=check, echo=click.echo)
        except SchemaGenError as error:
            click.echo(f"aso schemas: {plugin_dir}: {error}", err=True)
            sys.exit(2)
        for line in lines:
            click.echo(line)
        status = max(status, code)
    sys.exit(status)


@cli.command("new-plugin")
@click.argument("name")
@click.option("--group", required=True, help="Kubernetes API group, as in ASO (e.g. keyvault.azure.com).")
@click.option("--kind", "kind", required=True, help="Kind, as in ASO (e.g. Vault).")
@click.option("--arm-type", required=True, help="ARM resource type (e.g. Microsoft.KeyVault/vaults).")
@click.option("--api-version", required=True, help="ARM api-version (e.g. 2023-07-01).")
@click.option("--sdk", required=True, help="Azure SDK release carrying it, PACKAGE==VERSION.")
@click.option(
    "--model",
    default=None,
    help="Dotted path of the SDK model of the request body "
    "[default: azure.mgmt.<service>.v<api_version>.models.<KIND>].",
)
@click.option(
    "--owner",
    default="resource-group",
    show_default=True,
    help="resource-group, subscription, or GROUP/KIND of the parent of a child resource.",
)
@click.option("--plural", default=None, help="Lower-case plural [default: from the kind].")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=None,
    help="Directory to write the distribution into [default: ./aso-NAME].",
)
def new_plugin(
    name: str,
    group: str,
    kind: str,
    arm_type: str,
    api_version: str,
    sdk: str,
    model: str | None,
    owner: str,
    plural: str | None,
    out: pathlib.Path | None,
) -> None:
    """Write a complete plugin distribution NAME for one kind: pyproject with the entry point, plugin
    module, schemagen.yaml, the schema (`aso schemas`), README and an end-to-end test with the kit.

    Then: `pip install -e './aso-NAME[test]' && pytest aso-NAME`.
    """
    from aso.newplugin import PluginFacts, default_model, plural_of, write_plugin
    from aso.schemagen.convert import SchemaGenError
    from aso.schemagen.envs import generate_in_throwaway_envs

    facts = PluginFacts(
        service=name,
        group=group,
        kind=kind,
        arm_type=arm_type,
        arm_api_version=api_version,
        sdk=sdk,
        model=model or default_model(sdk, api_version, kind),
        owner=owner,
        plural=plural or plural_of(kind),
    )
    problems = facts.problems()
    if problems:
        raise click.UsageError("; ".join(problems))
    target = out or pathlib.Path(f"aso-{name}")

    def generate(plugin_dir: pathlib.Path) -> None:
        generate_in_throwaway_envs(plugin_dir, echo=click.echo)

    try:
        written = write_plugin(facts, target, generate)
    except (FileExistsError, SchemaGenError) as exc:
        raise click.ClickException(f"{exc} (is --model right? it names the SDK's request model)") from exc
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: pip install -e '{target}[test]' && pytest {target}")


@cli.command()
def run() -> None:
    """Run the operator against the cluster of KUBECONFIG (or in-cluster) until SIGINT/SIGTERM.

    Configured by environment variables with ASO's names: AZURE_SUBSCRIPTION_ID, AZURE_TENANT_ID,
    AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE),
    AZURE_RESOURCE_MANAGER_ENDPOINT, AZURE_RESOURCE_MANAGER_AUDIENCE, AZURE_AUTHORITY_HOST,
    AZURE_SYNC_PERIOD, AZURE_TARGET_NAMESPACES, MAX_CONCURRENT_RECONCILES, plus ASO_* settings
    (see the README).
    """
    # The operator never uses the `kubernetes` client (aso-core's test kit does); without this kopf
    # imports it when installed, which costs about 40 MB of RSS and a second of start-up.
    sys.modules.setdefault("kubernetes", None)  # type: ignore[arg-type]
    from aso.operator.app import run as run_operator
    from aso.operator.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    registry = _registry()
    if not registry.kinds:
        raise click.UsageError("no kinds to reconcile: install at least one aso plugin (see `aso plugins`)")
    run_operator(settings, registry)


@cli.command()
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    help="Where to write kubeconfig, sandbox.env, ready, crds/ and operator.log.",
)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=None,
    help="Keep both servers' data here; a restart continues where it stopped (default: in memory).",
)
@click.option(
    "--arm-port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@click.option(
    "--kube-port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@click.option(
    "--sync-period",
    default="1h",
    show_default=True,
    help="AZURE_SYNC_PERIOD of the operator: how often it checks Azure for drift ('never' allowed).",
)
@click.option("--no-operator", is_flag=True, help="Start only the backends (run `aso run` yourself).")
def sandbox(
    directory: pathlib.Path,
    state: pathlib.Path | None,
    arm_port: int,
    kube_port: int,
    sync_period: str,
    no_operator: bool,
) -> None:
    """Run the local sandbox: ARM emulator, Kubernetes API server and the operator, on loopback.

    Writes DIR/kubeconfig and DIR/sandbox.env, then DIR/ready once everything accepts requests,
    and runs until SIGINT/SIGTERM.
    """
    import asyncio

    from aso.operator.settings import SettingsError, parse_duration
    from aso.sandbox.runner import run_sandbox

    try:
        parse_duration("--sync-period", sync_period)
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--sync-period") from exc
    asyncio.run(
        run_sandbox(
            directory,
            state,
            arm_port=arm_port,
            kube_port=kube_port,
            operator=not no_operator,
            sync_period=sync_period,
        )
    )


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="aso")
    except KeyboardInterrupt:
        sys.exit(130)
