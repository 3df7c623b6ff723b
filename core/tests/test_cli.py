"""The CLI: help everywhere, clear errors for unknown commands and bad flags."""

from __future__ import annotations

import pathlib

from click.testing import CliRunner

from aso import __version__
from aso.cli import cli


def test_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["version"]).output.strip() == f"aso-core {__version__}"
    for command in (
        [],
        ["plugins"],
        ["crds"],
        ["run"],
        ["sandbox"],
        ["version"],
        ["schemas"],
        ["new-plugin"],
    ):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage:" in result.output


def test_unknown_command_and_bad_flags_exit_non_zero_with_a_message(tmp_path: pathlib.Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(cli, ["frobnicate"])
    assert unknown.exit_code == 2
    assert "No such command 'frobnicate'" in unknown.output
    bad_choice = runner.invoke(cli, ["plugins", "--output", "xml"])
    assert bad_choice.exit_code == 2
    assert "'xml' is not one of 'table', 'json'" in bad_choice.output
    missing = runner.invoke(cli, ["crds"])
    assert missing.exit_code == 2
    assert "Missing option '--out'" in missing.output
    bad_period = runner.invoke(cli, ["sandbox", "--dir", str(tmp_path), "--sync-period", "soon"])
    assert bad_period.exit_code == 2
    assert "--sync-period" in bad_period.output


def test_run_refuses_bad_settings_naming_the_variable(monkeypatch: object) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["run"], env={"AZURE_SYNC_PERIOD": "sometimes"})
    assert result.exit_code == 2
    assert "AZURE_SYNC_PERIOD='sometimes'" in result.output
