"""ARM emulator profiles through the hook ``aso_arm_profiles``: typed data, validated at load."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from aso import ArmAction, ArmLro, ArmNameRule, ArmProfile, hookimpl
from aso.armprofiles import load_plugin_profiles
from aso.host import load_registry


def _plugin(*profiles: object) -> object:
    @hookimpl
    def aso_arm_profiles() -> Sequence[object]:
        return list(profiles)

    return type("ProfilePlugin", (), {"aso_arm_profiles": staticmethod(aso_arm_profiles)})()


GADGETS = ArmProfile(
    type="Contoso.Widgets/gadgets",
    put=ArmLro(mode="async", headers=("Location",), polls=2),
    name_rule=ArmNameRule(pattern="[a-z]{3,24}"),
    actions={"listKeys": ArmAction(response={"keys": [{"value": "{secret.primary}"}]})},
    secrets=("primary",),
)


def test_valid_profiles_load_with_their_plugin_as_source() -> None:
    loaded = load_plugin_profiles([("contoso", _plugin(GADGETS))])
    (profile,) = loaded.by_plugin["contoso"]
    assert profile.source == "plugin:contoso"
    assert set(profile.actions) == {"listkeys"}  # ARM matches action names case-insensitively
    assert loaded.problems == ()


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (ArmProfile(type="gadgets"), "type 'gadgets': must look like 'Microsoft.Provider/type[/child]'"),
        (ArmProfile(type="A.B/c", put=ArmLro(mode="later")), "put.mode 'later': must be one of"),
        (
            ArmProfile(type="A.B/c", delete=ArmLro(headers=("Retry",))),
            "delete.headers: 'Retry' must be one of",
        ),
        (ArmProfile(type="A.B/c", read_only=["properties.x"]), "read_only: expected a tuple (...), got list"),  # type: ignore[arg-type]
        (
            ArmProfile(type="A.B/c", name_rule=ArmNameRule(pattern="[")),
            "name_rule.pattern '[': not a regular",
        ),
        ({"type": "A.B/c"}, "item 0 is dict, expected aso.ArmProfile"),
    ],
)
def test_a_bad_profile_is_skipped_naming_plugin_type_and_field(
    profile: object, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="aso.plugins"):
        loaded = load_plugin_profiles([("contoso", _plugin(profile, GADGETS))])
    assert [p.type for p in loaded.profiles if p.source == "plugin:contoso"] == ["Contoso.Widgets/gadgets"]
    ((plugin, problem),) = loaded.problems
    assert plugin == "contoso"
    assert message in problem
    assert "plugin 'contoso'" in caplog.text
    assert message in caplog.text


def test_registry_shows_each_plugins_profiles_and_problems() -> None:
    """What `aso plugins` prints: kinds, profiles and problems per plugin."""
    registry = load_registry(extra_plugins=[("contoso", _plugin(GADGETS, ArmProfile(type="bad")))])
    (plugin,) = [p for p in registry.plugins if p.name == "contoso"]
    assert [p.type for p in plugin.profiles] == ["Contoso.Widgets/gadgets"]
    assert plugin.kinds == ()
    assert len(plugin.problems) == 1
    assert "ARM profile 'bad' skipped" in plugin.problems[0]


def test_plugins_command_lists_profiles_and_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from aso import cli

    monkeypatch.setattr(
        cli,
        "_registry",
        lambda: load_registry(extra_plugins=[("contoso", _plugin(GADGETS, ArmProfile(type="bad")))]),
    )
    result = CliRunner().invoke(cli.cli, ["plugins"])
    assert result.exit_code == 0, result.output
    profiles = result.stdout.split("ARM EMULATOR PROFILES\n")[1].split("\n\n")[0].splitlines()
    assert "contoso  Contoso.Widgets/gadgets" in profiles
    problems = result.stdout.split("PROBLEMS\n")[1].splitlines()
    assert any(line.startswith("contoso: ARM profile 'bad' skipped: type 'bad'") for line in problems)
    as_json = CliRunner().invoke(cli.cli, ["plugins", "-o", "json"])
    assert '"armProfiles": [\n        "Contoso.Widgets/gadgets"' in as_json.stdout
