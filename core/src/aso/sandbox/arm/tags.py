"""Resource tags: the limits Azure Resource Manager holds every PUT and PATCH of every type to.

ARM's front door checks ``tags`` before a request reaches any provider: at most 50 name/value
pairs, names of at most 512 characters (Storage keeps its own 128), values of at most 256, no
``<>%&\\?/`` or control characters in a name. The codes and message shapes are ARM's
(``InvalidTags``, ``InvalidTagName``, ``InvalidTagValueLength``, ``InvalidTagNameCharacters``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import ErrorReply, invalid_request_content

MAX_TAGS = 50
MAX_NAME = 512
MAX_VALUE = 256

#: Types whose provider allows shorter tag names than ARM (lower-cased full type -> limit).
NAME_LIMITS: Mapping[str, int] = {"microsoft.storage/storageaccounts": 128}

_RESERVED = re.compile(r"[<>%&\\?/\x00-\x1f\x7f]")


def check_tags(body: Mapping[str, Any], full_type: str) -> None:
    """Refuse the request body's ``tags`` as ARM would; absent or null tags are fine."""
    tags = body.get("tags")
    if tags is None:
        return
    if not isinstance(tags, dict):
        raise invalid_request_content(
            f"'tags' must be an object of tag names and string values, not {_json_kind(tags)}. Path 'tags'."
        )
    for name, value in tags.items():
        if not isinstance(value, str):
            raise invalid_request_content(
                f"The value of tag '{name}' must be a string, not {_json_kind(value)}. Path 'tags.{name}'."
            )
    if len(tags) > MAX_TAGS:
        raise ErrorReply(
            400,
            "InvalidTags",
            f"Too many tags specified. Requested tag count - '{len(tags)}'. "
            f"Maximum number of tags allowed - '{MAX_TAGS}'.",
        )
    if any(not name.strip() for name in tags):
        raise ErrorReply(
            400,
            "InvalidTagName",
            "The tag name must be non-null, non-empty and non-whitespace only. "
            "Please provide an actual value.",
        )
    reserved = [name for name in tags if _RESERVED.search(name)]
    if reserved:
        raise ErrorReply(
            400,
            "InvalidTagNameCharacters",
            f"The tag names '{', '.join(reserved)}' have reserved characters '<,>,%,&,\\,?,/' "
            "or control characters.",
        )
    name_limit = NAME_LIMITS.get(full_type.lower(), MAX_NAME)
    long_names = [name for name in tags if len(name) > name_limit]
    if long_names:
        raise ErrorReply(
            400,
            "InvalidTagName",
            f"Tag key too large. Following tag name '{', '.join(long_names)}' exceeded the maximum "
            f"length. Maximum allowed length for tag name - '{name_limit}' characters.",
        )
    long_values = [value for value in tags.values() if len(value) > MAX_VALUE]
    if long_values:
        raise ErrorReply(
            400,
            "InvalidTagValueLength",
            f"Tag value too large. Following tag value '{', '.join(long_values)}' exceeded the maximum "
            f"length. Maximum allowed length for tag value - '{MAX_VALUE}' characters.",
        )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
