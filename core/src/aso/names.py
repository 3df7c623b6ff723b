"""ARM's naming rules: one class for what aso checks before it builds an ARM id (a kind's
``name_rule``) and for what an emulated provider refuses (an emulator profile's ``name_rule``,
:class:`aso.ArmNameRule`, which adds the provider's error). Imported by the operator and by the
backends alike; it knows nothing of either."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ARM_FORBIDDEN_NAME_CHARACTERS", "GENERAL_NAME_RULE", "NameRule"]


#: Characters no ARM resource name may hold, whatever its type: they would change the meaning of the
#: URL or of the id (``/`` starts another segment, ``?`` and ``#`` end the path, ``%`` escapes).
ARM_FORBIDDEN_NAME_CHARACTERS = frozenset("/\\?#%<>&")


@dataclass(frozen=True, kw_only=True)
class NameRule:
    """ARM's naming rule for a resource type: what ``spec.azureName`` (or ``metadata.name``) may be.

    The rule is data: it goes into the CRD (``minLength``, ``maxLength``, ``pattern`` on
    ``spec.azureName``) so that the API server refuses a bad name at ``kubectl apply``, and the
    reconciler checks it again before it builds an ARM id (``metadata.name`` has no CRD rule).
    Every kind also gets ARM's general rule: none of ``/ \\ ? # % < > &``, no control characters,
    not ``.`` or ``..``.
    """

    min_length: int = 1
    max_length: int | None = None
    #: A regular expression the whole name must match (RE2 and Python ``re`` alike, no look-around).
    pattern: str | None = None
    #: The rule in words, for error messages: ``1-90 letters, digits, '_', '-', '.', '(', ')'; ...``.
    description: str = ""

    def problem(self, name: str) -> str | None:
        """Why ``name`` breaks this rule or ARM's general one; None when it fits."""
        if name in (".", ".."):
            return "'.' and '..' are not resource names"
        bad = sorted({c for c in name if c in ARM_FORBIDDEN_NAME_CHARACTERS or ord(c) < 32 or ord(c) == 127})
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            return f"ARM resource names may not contain {shown}"
        if len(name) < self.min_length or (self.max_length is not None and len(name) > self.max_length):
            upper = f"-{self.max_length}" if self.max_length is not None else " or more"
            return f"must be {self.min_length}{upper} characters long (is {len(name)})"
        if self.pattern is not None and re.fullmatch(self.pattern, name) is None:
            return f"must match {self.pattern}"
        return None

    def explain(self) -> str:
        return self.description or (f"pattern {self.pattern}" if self.pattern else "ARM's general name rule")


#: ARM's general rule, for kinds that declare none of their own.
GENERAL_NAME_RULE = NameRule(description="any name without / \\ ? # % < > & or control characters")
