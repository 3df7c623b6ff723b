"""ARM error responses: the status codes, codes and message shapes Azure Resource Manager uses.

Every failure the emulator reports to a client goes through :class:`ErrorReply`, so the wire shape
(``{"error": {"code", "message"}}``) is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ErrorReply(Exception):
    """An error answered to the client as ``{"error": {"code": ..., "message": ...}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def resource_group_not_found(name: str) -> ErrorReply:
    return ErrorReply(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def resource_not_found(what: str, resource_group: str | None) -> ErrorReply:
    """``what`` is ``Namespace/type/name[/childType/childName]``."""
    where = f" under resource group '{resource_group}'" if resource_group else ""
    return ErrorReply(
        404,
        "ResourceNotFound",
        f"The Resource '{what}'{where} was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def parent_not_found(verb: str, short_type: str, parent_id: str) -> ErrorReply:
    return ErrorReply(
        404,
        "ParentResourceNotFound",
        f"Failed to perform '{verb}' on resource(s) of type '{short_type}', "
        f"because the parent resource '{parent_id}' could not be found.",
    )


def missing_api_version() -> ErrorReply:
    return ErrorReply(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def location_not_available(location: str, resource_type: str, regions: Sequence[str]) -> ErrorReply:
    """ARM's answer to a ``location`` that is no region it knows (checked before the provider)."""
    listed = ",".join(regions)
    if resource_type.lower() == "microsoft.resources/resourcegroups":
        return ErrorReply(
            400,
            "LocationNotAvailableForResourceGroup",
            f"The provided location '{location}' is not available for resource group. "
            f"List of available regions is '{listed}'.",
        )
    return ErrorReply(
        400,
        "LocationNotAvailableForResourceType",
        f"The provided location '{location}' is not available for resource type '{resource_type}'. "
        f"List of available regions for the resource type is '{listed}'.",
    )


def authorization_failed(client_id: str, action: str, scope: str) -> ErrorReply:
    return ErrorReply(
        403,
        "AuthorizationFailed",
        f"The client '{client_id}' with object id '{client_id}' does not have authorization to perform "
        f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
        "please refresh your credentials.",
    )


def invalid_request_content(detail: str) -> ErrorReply:
    return ErrorReply(
        400,
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: {detail}",
    )
