"""The deactivation budget: how many integrations one provider process may deactivate.

One provider process serves one Pulumi operation. If d6 lists nothing by mistake, or a bad
commit drops the declarations, the engine asks to delete every resource, and each delete would
end a school's service. The budget (``d6:maxDeactivations``, default 10) lets a run deactivate
that many and refuses the rest before they reach d6; refused resources stay in state, and the
next run (with the budget raised, if it was intended) picks them up. Activations never count.
"""

from __future__ import annotations

import threading

from .errors import ResourceError
from .settings import DEFAULT_MAX_DEACTIVATIONS, MAX_DEACTIVATIONS_KEY, D6Settings


class DeactivationRefused(ResourceError):
    """A deactivation was refused because this run's budget is spent."""


class DeactivationBudget:
    """Units counted exactly across the engine's 4 threads; ``limit`` None is unlimited."""

    def __init__(self, limit: int | None, source: str = "default") -> None:
        self.limit = limit
        self.source = source
        self._used = 0
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: D6Settings) -> DeactivationBudget:
        return cls(settings.max_deactivations, settings.source_of("max_deactivations"))

    @property
    def used(self) -> int:
        with self._lock:
            return self._used

    def take(self, school_id: int, api_type_id: int) -> None:
        """Take one unit, or raise :class:`DeactivationRefused` (nothing was sent)."""
        with self._lock:
            if self.limit is None or self._used < self.limit:
                self._used += 1
                return
            used = self._used
        raise DeactivationRefused(self._refusal(school_id, api_type_id, used))

    def give_back(self) -> None:
        """The call deactivated nothing (already inactive, or no longer authorised)."""
        with self._lock:
            self._used = max(0, self._used - 1)

    def _refusal(self, school_id: int, api_type_id: int, used: int) -> str:
        suggestion = max(50, (self.limit or 0) * 5)
        set_by, raise_it = _where(self.source, self.limit, suggestion)
        done = (
            f"this run allows no deactivations, the limit set by {set_by}"
            if self.limit == 0
            else f"this run has already deactivated {used} integration(s), the limit set by "
            f"{set_by}"
        )
        return (
            f"refusing to deactivate school {school_id} / API type {api_type_id}: {done}. "
            f"If this is intended, raise it {raise_it}. The resource stays in state until then."
        )


def _where(source: str, limit: int | None, suggestion: int) -> tuple[str, str]:
    """What set the limit in force, and how to raise it in that same place."""
    key = MAX_DEACTIVATIONS_KEY
    in_stack = f"pulumi config set {key.stack_key} {suggestion}"
    if source == key.stack_key:
        return f"stack config {key.stack_key} = {limit}", f"in the stack file: {in_stack}"
    if source == key.env_var:
        return (
            f"the environment variable {key.env_var}={limit}",
            f"where that variable is set: {key.env_var}={suggestion}",
        )
    if source == "default":
        return (
            f"the default of {key.stack_key} ({DEFAULT_MAX_DEACTIVATIONS})",
            f"in the stack file: {in_stack}",
        )
    return f"{source} = {limit}", f"there (e.g. to {suggestion})"
