"""Running a kind's extensions (:mod:`aso.extensions`) around the generic behaviour."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aso.operator.context import ObjectContext, Target

__all__ = ["ExtensionView", "run_extension"]

T = TypeVar("T")


class ExtensionView:
    """What an extension sees (:class:`aso.ReconcileContext`)."""

    def __init__(self, ctx: ObjectContext, target: Target) -> None:
        self.kind = ctx.kind
        self.api_version = target.api_version
        self.namespace = ctx.namespace
        self.name = ctx.name
        self.body = ctx.body
        self.arm_id = target.arm_id
        self.arm = target.arm
        self.log = ctx.log


async def run_extension(
    ctx: ObjectContext, target: Target, name: str, default: Callable[[], Awaitable[T]]
) -> T:
    """The kind's extension ``name`` around ``default``, or ``default`` alone when it has none."""
    hook = getattr(ctx.kind.extensions, name, None) if ctx.kind.extensions else None
    if hook is None:
        return await default()
    result: T = await hook(ExtensionView(ctx, target), default)
    return result
