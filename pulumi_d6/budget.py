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
from .settings import DEFAULT_MAX_DEACTIVATIONS, D6Settings


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
        if self.source == "default":
            where = f"d6:maxDeactivations (default {DEFAULT_MAX_DEACTIVATIONS})"
        elif self.source.startswith("D6_"):
            where = f"D6_MAX_DEACTIVATIONS={self.limit}"
        else:
            where = f"{self.source} = {self.limit}"
        suggestion = max(50, (self.limit or 0) * 5)
        done = (
            f"this run allows no deactivations, the limit set by {where}"
            if self.limit == 0
            else f"this run has already deactivated {used} integration(s), the limit set by {where}"
        )
        return (
            f"refusing to deactivate school {school_id} / API type {api_type_id}: {done}. "
            f"If this is intended, raise it: pulumi config set d6:maxDeactivations {suggestion} "
            f"(or D6_MAX_DEACTIVATIONS={suggestion}). The resource stays in state until then."
        )
