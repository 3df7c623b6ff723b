"""Resource bodies: build what the emulated provider stores and returns from what a client sent.

Pure functions over plain JSON values, driven by a :class:`~aso.sandbox.arm.profiles.Profile`.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from aso.common import copy_json, get_path, set_path, utc_now
from aso.common import merge_patch as common_merge_patch

from .profiles import REGION_DISPLAY_NAMES, Profile, region_key

# Fields no client can set: the server owns them.
ALWAYS_READ_ONLY = ("id", "name", "type", "etag", "systemData")

_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def new_key() -> str:
    """A random access key shaped like Azure's (64 random bytes, base64)."""
    return base64.b64encode(secrets.token_bytes(64)).decode()


def deep_merge(base: Any, overlay: Any) -> Any:
    """Overlay wins; dicts merge recursively; a ``None`` in the overlay keeps the base value
    (ARM treats an explicit null in a PUT like an absent field: the server default applies)."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for k, v in overlay.items():
            if v is None and k in out:
                continue
            out[k] = deep_merge(out.get(k), v) if k in out else copy_json(v)
        return out
    if overlay is None:
        return copy_json(base)
    return copy_json(overlay)


#: What ARM's PATCH replaces as a whole instead of merging.
ARM_WHOLE = frozenset({"tags"})


def merge_patch(target: Any, patch: Any) -> Any:
    """ARM's PATCH: RFC 7386 JSON merge patch, except that ``tags`` is replaced as a whole."""
    return common_merge_patch(target, patch, ARM_WHOLE)


def pop_path(obj: Any, path: str) -> Any:
    parts = path.split(".")
    for part in parts[:-1]:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    if isinstance(obj, dict):
        return obj.pop(parts[-1], None)
    return None


def shaped(body: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """A stored body as this API version or variant answers it (without its ``omit`` paths)."""
    if not profile.omit:
        return body
    out: dict[str, Any] = copy_json(body)
    for path in profile.omit:
        pop_path(out, path)
    return out


def render(template: Any, ctx: Mapping[str, Any]) -> Any:
    """Fill ``{name}``-style placeholders in every string of a template.

    A string that is exactly one placeholder takes the value as is (so numbers stay numbers);
    ``{uuid}`` and ``{key}`` produce a fresh value each time they appear.
    """
    if isinstance(template, dict):
        return {k: render(v, ctx) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, ctx) for v in template]
    if not isinstance(template, str) or "{" not in template:
        return template

    def value(name: str) -> Any:
        if name == "uuid":
            return str(uuid.uuid4())
        if name == "key":
            return new_key()
        if name == "now":
            return utc_now(3)
        cur: Any = ctx
        for part in name.split("."):
            if not isinstance(cur, Mapping) or part not in cur:
                return None
            cur = cur[part]
        return cur

    whole = _TEMPLATE.fullmatch(template)
    if whole:
        v = value(whole.group(1))
        return template if v is None else v

    def sub(m: re.Match[str]) -> str:
        v = value(m.group(1))
        return m.group(0) if v is None else str(v)

    return _TEMPLATE.sub(sub, template)


def normalise(body: dict[str, Any], profile: Profile) -> None:
    """Rewrite values the way the provider answers them.

    Rules by path: ``region_display`` (``westus2`` -> ``West US 2``), ``lower``,
    ``trailing_slash``, ``{regex, replace}`` (a substitution), or a mapping of values
    (``{"6": "6.0"}``).
    """
    for path, rule in profile.normalise.items():
        current = get_path(body, path)
        if current is None:
            continue
        if rule == "region_display":
            if isinstance(current, str):
                set_path(body, path, REGION_DISPLAY_NAMES.get(region_key(current), current))
        elif rule == "lower":
            if isinstance(current, str):
                set_path(body, path, current.lower())
        elif rule == "trailing_slash":
            if isinstance(current, str) and not current.endswith("/"):
                set_path(body, path, current + "/")
        elif isinstance(rule, Mapping) and "regex" in rule:
            if isinstance(current, str):
                set_path(body, path, re.sub(rule["regex"], rule["replace"], current))
        elif isinstance(rule, Mapping):
            key = str(current)
            if key in rule:
                set_path(body, path, rule[key])


def strip_request(request: Mapping[str, Any], profile: Profile) -> tuple[dict[str, Any], dict[str, Any]]:
    """Drop server-owned fields from a request; return (body, write-only values by path)."""
    # ``request`` is freshly parsed JSON owned by this request: no copy needed.
    body = dict(request)
    for k in ALWAYS_READ_ONLY:
        body.pop(k, None)
    props = body.get("properties")
    if isinstance(props, dict):
        props.pop("provisioningState", None)
    elif "properties" in body:
        body.pop("properties")
    for path in profile.read_only:
        pop_path(body, path)
    hidden: dict[str, Any] = {}
    for path in profile.write_only:
        v = pop_path(body, path)
        if v is not None:
            hidden[path] = v
    return body, hidden


def values_differ(path: str, old: Any, new: Any) -> bool:
    if old is None or new is None:
        return False
    if path == "location" and isinstance(old, str) and isinstance(new, str):
        return region_key(old) != region_key(new)
    return bool(old != new)
