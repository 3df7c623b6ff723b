"""Errors a plugin's extension raises to steer the reconciler (kopf is never imported by plugins)."""

from __future__ import annotations

from typing import Literal

__all__ = ["ArmError", "AsoError", "PermanentError", "RetryableError", "Severity"]

#: The severity of a Ready=False condition, as ASO v2 writes it: ``Info`` (work under way, such as
#: an operation running in Azure), ``Warning`` (may heal by itself, retried), ``Error`` (the user
#: must act; tried again after a spec change).
Severity = Literal["Info", "Warning", "Error"]


class AsoError(Exception):
    """Base of the errors that end a reconcile with a Ready condition explaining why."""

    #: Severity of the Ready condition this error leads to.
    default_severity: Severity = "Warning"

    def __init__(self, message: str, *, reason: str, severity: Severity | None = None) -> None:
        super().__init__(message)
        #: PascalCase reason for the Ready condition, e.g. ``SecretNotFound`` or an ARM error code.
        self.reason = reason
        self.message = message
        #: See :data:`Severity`.
        self.severity: Severity = severity or self.default_severity


class RetryableError(AsoError):
    """Something that can heal by itself: retried with backoff, condition severity Warning."""

    def __init__(
        self, message: str, *, reason: str, delay: float | None = None, severity: Severity | None = None
    ) -> None:
        super().__init__(message, reason=reason, severity=severity)
        #: Seconds to wait before the next try (e.g. from ``Retry-After``); None lets the core back off.
        self.delay = delay


class PermanentError(AsoError):
    """Something the user must fix: condition severity Error; retried only after a spec change."""

    default_severity: Severity = "Error"


class ArmError(Exception):
    """ARM answered with an error (or could not be reached: status 0).

    The ARM calls an extension makes raise it; let it propagate and the core classifies it (the
    kind's ``classify_error`` first) into a retry or a Ready condition, as for its own calls.
    """

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        #: HTTP status; 0 when ARM could not be reached or no token could be had.
        self.status = status
        #: ARM's error code, e.g. ``ResourceGroupNotFound``.
        self.code = code
        self.message = message
        #: Seconds from ARM's ``Retry-After``, when it sent one.
        self.retry_after = retry_after
