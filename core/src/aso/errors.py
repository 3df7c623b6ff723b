"""Errors a plugin's extension raises to steer the reconciler (kopf is never imported by plugins)."""

from __future__ import annotations

__all__ = ["AsoError", "PermanentError", "RetryableError"]


class AsoError(Exception):
    """Base of the errors that end a reconcile with a Ready condition explaining why."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        #: PascalCase reason for the Ready condition, e.g. ``SecretNotFound`` or an ARM error code.
        self.reason = reason
        self.message = message


class RetryableError(AsoError):
    """Something that can heal by itself: retried with backoff, condition severity Warning."""

    def __init__(self, message: str, *, reason: str, delay: float | None = None) -> None:
        super().__init__(message, reason=reason)
        #: Seconds to wait before the next try (e.g. from ``Retry-After``); None lets the core back off.
        self.delay = delay


class PermanentError(AsoError):
    """Something the user must fix: condition severity Error; retried only after a spec change."""
