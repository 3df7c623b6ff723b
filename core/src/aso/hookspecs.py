"""The whole plugin contract of aso: every hook a plugin may implement.

A plugin is a module (or object) exposed through the entry-point group ``aso.plugins`` whose
functions are marked with :data:`aso.hookimpl` and named after the hooks below. Hooks are called at
start-up to register declarations; nothing here runs on the reconcile path (reconcile-time
customisation lives in :class:`aso.Extensions` on each :class:`aso.ResourceKind`).

Set ``ASO_TRACE_PLUGINS=1`` to log every hook call and its result; set
``ASO_DISABLE_PLUGINS=name1,name2`` (entry-point names, as ``aso plugins`` prints them) to keep
plugins from loading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from aso.armprofiles import ArmProfile
    from aso.kinds import ResourceKind

PROJECT = "aso"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def aso_register_kinds() -> Sequence[ResourceKind]:
    """Declare the resource kinds this plugin reconciles.

    Called once at start-up, for every plugin; the results of all plugins are merged into one table
    keyed by group, version and kind. A kind whose declaration is invalid is skipped with a log line
    naming the field; when two plugins declare the same group and kind, neither gets it and one error
    line names both.

    :return: the plugin's kinds (an empty sequence is allowed).

    .. versionadded:: 0.1
    """
    raise NotImplementedError


@hookspec
def aso_arm_profiles() -> Sequence[ArmProfile]:
    """Describe how the ARM emulator's provider behaves for the resource types of this plugin.

    Called once when an ARM emulator starts (``aso sandbox``, the test kit's ``arm_emulator``) and
    by ``aso plugins``; never by the operator. A plugin's profile overrides a built-in one of the
    same type. Each profile is validated at load: an invalid one is skipped with a log line naming
    the plugin, the type and the field, and the type then behaves generically (synchronous PUT
    echoing the body).

    :return: the plugin's profiles (an empty sequence is allowed).

    .. versionadded:: 0.2
    """
    raise NotImplementedError
