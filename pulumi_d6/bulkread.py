"""Reads for refresh that stay cheap when one provider process serves many of them.

``pulumi refresh`` calls ``read`` once per resource, four at a time, on one provider instance.
One filtered GET per resource costs N requests; one full listing costs ceil(T / page size).
So the first few reads are targeted, and once a process has served ``targeted_reads`` of them it
fetches the whole listing once (one thread fetches, the others wait for it) and answers the rest
from it. Each listed entry is handed out once and expires after ``ttl`` seconds: a second read of
the same integration, or a late one, asks d6 again, so the cache never hides a change for long.
This process's own state changes update the entries it still holds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from .client import D6Client
from .dialects import FIRST_PAGE_LIMIT
from .models import ClientIntegrationInfo

Key = tuple[int, int]
TARGETED_READS = 8
LISTING_TTL_SECONDS = 60.0


class BulkReader:
    """Thread-safe ``get(school_id, api_type_id)`` that switches to one paged listing."""

    def __init__(
        self,
        client: D6Client,
        *,
        targeted_reads: int = TARGETED_READS,
        ttl: float = LISTING_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.targeted_reads = targeted_reads
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below
        self._fetch_lock = threading.Lock()  # one listing at a time
        self._targeted = 0
        self._listed: set[Key] = set()
        self._unread: dict[Key, ClientIntegrationInfo] = {}
        self._listed_at: float | None = None
        self._generation = 0
        self._rereads = 0  # targeted reads since the last listing, of entries it handed out
        self._rereads_allowed = 0  # what the last listing cost in requests

    def get(self, school_id: int, api_type_id: int) -> ClientIntegrationInfo | None:
        key = (school_id, api_type_id)
        with self._lock:
            found, value = self._from_listing(key)
            if found:
                return value
            if self._targeted < self.targeted_reads:
                self._targeted += 1  # few reads so far: ask d6 directly
                targeted = True
            elif self._listing_fresh() and self._rereads < self._rereads_allowed:
                self._rereads += 1  # already handed out: ask d6 directly, while that is cheaper
                targeted = True
            else:
                targeted = False
            generation = self._generation
        if targeted:
            return self.client.get_integration(school_id, api_type_id)
        return self._via_listing(key, generation)

    def note(self, school_id: int, api_type_id: int, active: bool) -> None:
        """This process changed the state: keep an entry it still holds in step.

        A change to an integration the listing did not have (authorised since) marks it as
        existing, so a later read asks d6 instead of concluding it was revoked.
        """
        key = (school_id, api_type_id)
        with self._lock:
            self._listed.add(key)
            held = self._unread.get(key)
            if held is not None:
                self._unread[key] = held.model_copy(update={"active": active})

    def _listing_fresh(self) -> bool:
        return self._listed_at is not None and self._clock() - self._listed_at < self.ttl

    def _from_listing(self, key: Key) -> tuple[bool, ClientIntegrationInfo | None]:
        """(True, entry) when a fresh listing answers for ``key``; (False, None) otherwise."""
        if not self._listing_fresh():
            return False, None
        if key in self._unread:
            return True, self._unread.pop(key)
        if key not in self._listed:
            return True, None  # a complete listing without it: not authorised (or revoked)
        return False, None

    def _via_listing(self, key: Key, generation: int) -> ClientIntegrationInfo | None:
        with self._fetch_lock:
            with self._lock:
                fetched_meanwhile = self._generation != generation
            if not fetched_meanwhile:
                records = list(self.client.iter_integrations())
                with self._lock:
                    self._listed = {r.key for r in records}
                    self._unread = {r.key: r for r in records}
                    self._listed_at = self._clock()
                    self._generation += 1
                    self._rereads = 0
                    self._rereads_allowed = max(1, math.ceil(len(records) / FIRST_PAGE_LIMIT))
        with self._lock:
            found, value = self._from_listing(key)
        if found:
            return value
        return self.client.get_integration(*key)
