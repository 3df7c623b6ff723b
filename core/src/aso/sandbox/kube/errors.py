"""Kubernetes API errors as `metav1.Status` bodies.

Every failure the server answers is an :class:`ApiError`; its ``status()`` is the exact JSON
shape clients parse (kubectl prints ``message``; kopf and the Python client branch on ``code``
and ``reason``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Cause:
    """One field error: ``field: Type: value: detail`` in the API server's words."""

    reason: str
    field: str
    message: str

    def line(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def render_value(value: Any) -> str:
    """Render a value the way Go's ``%#v``-ish field errors show it (strings quoted)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


def required(path: str) -> Cause:
    return Cause(reason="FieldValueRequired", field=path, message="Required value")


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(
        reason="FieldValueInvalid", field=path, message=f"Invalid value: {render_value(value)}: {detail}"
    )


def type_invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(
        reason="FieldValueTypeInvalid", field=path, message=f"Invalid value: {render_value(value)}: {detail}"
    )


def not_supported(path: str, value: Any, allowed: list[Any]) -> Cause:
    listed = ", ".join(render_value(v) for v in allowed)
    return Cause(
        reason="FieldValueNotSupported",
        field=path,
        message=f"Unsupported value: {render_value(value)}: supported values: {listed}",
    )


def too_long(path: str, limit: int) -> Cause:
    return Cause(reason="FieldValueTooLong", field=path, message=f"Too long: may not be longer than {limit}")


def too_long_bytes(path: str, limit: int) -> Cause:
    """``field.TooLong``: a size in bytes (annotations), as opposed to a schema's ``maxLength``."""
    return Cause(reason="FieldValueTooLong", field=path, message=f"Too long: must have at most {limit} bytes")


def too_many(path: str, count: int, limit: int) -> Cause:
    return Cause(
        reason="FieldValueTooMany", field=path, message=f"Too many: {count}: must have at most {limit} items"
    )


def forbidden(path: str, detail: str) -> Cause:
    return Cause(reason="FieldValueForbidden", field=path, message=f"Forbidden: {detail}")


@dataclass(kw_only=True)
class ApiError(Exception):
    """An HTTP error answered as a ``Status`` object."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    #: The Status's ListMeta (an expired continue token's successor).
    metadata: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _resource(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        code=404,
        reason="NotFound",
        message=f'{_resource(group, plural)} "{name}" not found',
        details={"name": name, "group": group, "kind": plural},
    )


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        code=409,
        reason="AlreadyExists",
        message=f'{_resource(group, plural)} "{name}" already exists',
        details={"name": name, "group": group, "kind": plural},
    )


def conflict(group: str, plural: str, name: str, detail: str) -> ApiError:
    return ApiError(
        code=409,
        reason="Conflict",
        message=f'Operation cannot be fulfilled on {_resource(group, plural)} "{name}": {detail}',
        details={"name": name, "group": group, "kind": plural},
    )


def stale(group: str, plural: str, name: str) -> ApiError:
    return conflict(
        group,
        plural,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )


def invalid_object(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid with the API server's aggregate message: one error bare, several in brackets."""
    qualified = f"{kind}.{group}" if group else kind
    lines = [c.line() for c in causes]
    summary = lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
    return ApiError(
        code=422,
        reason="Invalid",
        message=f'{qualified} "{name}" is invalid: {summary}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes],
        },
    )


def bad_request(message: str) -> ApiError:
    return ApiError(code=400, reason="BadRequest", message=message)


def forbidden_request(message: str, **details: Any) -> ApiError:
    return ApiError(code=403, reason="Forbidden", message=message, details=dict(details))


def request_entity_too_large(limit: int) -> ApiError:
    """413, as ``limitedReadBody`` answers a body over the server's ``MaxRequestBodyBytes``."""
    return ApiError(
        code=413, reason="RequestEntityTooLarge", message=f"Request entity too large: limit is {limit}"
    )


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(code=405, reason="MethodNotAllowed", message=message)


def gone(message: str) -> ApiError:
    return ApiError(code=410, reason="Expired", message=message)


#: The API server's answer to a continue token whose resourceVersion is compacted (etcd3 store).
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)


def continue_expired(successor: str) -> ApiError:
    """410 Expired for a compacted continue token; ``successor`` continues at the latest state."""
    return ApiError(code=410, reason="Expired", message=CONTINUE_EXPIRED, metadata={"continue": successor})


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        code=415,
        reason="UnsupportedMediaType",
        message=f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(accepted)}",
        details={
            "causes": [{"reason": "UnexpectedHeader", "message": content_type, "field": "Content-Type"}]
        },
    )


def unprocessable(message: str) -> ApiError:
    """A 422 without field causes: what a failed JSON-patch ``test`` op gives."""
    return ApiError(
        code=422,
        reason="Invalid",
        message="the server rejected our request due to an error in our request",
        details={"causes": [{"message": message}]},
    )


def internal(message: str) -> ApiError:
    return ApiError(
        code=500, reason="InternalError", message=message, details={"causes": [{"message": message}]}
    )
