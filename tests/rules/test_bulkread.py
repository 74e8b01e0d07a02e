"""BulkReader's rules, on a clock and a d6 the test holds: which read asks d6, and what it hears.

- the first ``targeted_reads`` reads ask d6 for one integration each; the next takes one listing;
- a listed entry is handed out once, for ``ttl`` seconds; a second or late read asks d6 again,
  one GET each until those cost what the listing did (50 a page), then one new listing;
- a fresh listing without an integration means it is no longer authorised (no request);
- this process's own changes update what the reader holds, and make an unlisted one exist;
- readers waiting for a listing another thread is fetching use it instead of fetching again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_d6.bulkread import BulkReader
from pulumi_d6.models import ClientIntegrationInfo

from .fake_d6 import record


def info(school: int, active: bool = False) -> ClientIntegrationInfo:
    return ClientIntegrationInfo.model_validate(record(school, 8, active))


class FakeClient:
    """d6 as the reader sees it; counts targeted reads and listings."""

    def __init__(self, schools: list[int]) -> None:
        self.live = {(s, 8): info(s) for s in schools}
        self.targeted: list[tuple[int, int]] = []
        self.listings = 0
        self.listing_started = threading.Event()
        self.release_listing = threading.Event()
        self.release_listing.set()

    def get_integration(self, school_id: int, api_type_id: int) -> ClientIntegrationInfo | None:
        self.targeted.append((school_id, api_type_id))
        return self.live.get((school_id, api_type_id))

    def iter_integrations(self) -> Iterator[ClientIntegrationInfo]:
        self.listings += 1
        self.listing_started.set()
        self.release_listing.wait(timeout=10)
        yield from list(self.live.values())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reader_for(client: FakeClient, clock: Clock, **options: Any) -> BulkReader:
    return BulkReader(client, clock=clock, **options)  # type: ignore[arg-type]


SCHOOLS = list(range(1000, 1020))


def test_eight_targeted_reads_then_one_listing_answers_the_rest() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock)
    for school in SCHOOLS[:8]:
        assert reader.get(school, 8) == info(school)
    assert (len(client.targeted), client.listings) == (8, 0)
    for school in SCHOOLS[8:]:
        assert reader.get(school, 8) == info(school)
    assert (len(client.targeted), client.listings) == (8, 1)


def test_a_listed_entry_is_handed_out_once_then_d6_is_asked() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    assert reader.get(1005, 8) == info(1005)
    assert client.targeted == []
    client.live[(1005, 8)] = info(1005, active=True)  # changed in d6 since the listing
    assert reader.get(1005, 8) == info(1005, active=True)
    assert client.targeted == [(1005, 8)]
    assert client.listings == 1


def test_reading_everything_twice_costs_two_listings_not_a_get_per_integration() -> None:
    """An exclusive-mode ``up`` (an inactive create reads each one) and a refresh in the same
    process read every integration twice: second reads are targeted only until they cost what
    the listing did (120 integrations: 3 pages), then a new listing answers the rest."""
    schools = list(range(1000, 1120))
    client, clock = FakeClient(schools), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    for school in schools:
        assert reader.get(school, 8) == info(school)
    assert (len(client.targeted), client.listings) == (0, 1)
    client.live[(1119, 8)] = info(1119, active=True)  # changed in d6 since the first listing
    for school in schools:
        assert reader.get(school, 8) == client.live[(school, 8)]
    assert client.targeted == [(1000, 8), (1001, 8), (1002, 8)]
    assert client.listings == 2


def test_a_fresh_listing_without_it_means_not_authorised_without_a_request() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    assert reader.get(1000, 8) is not None
    assert reader.get(4242, 8) is None
    assert reader.get(1000, 9) is None
    assert client.targeted == []
    assert client.listings == 1


@pytest.mark.parametrize(("ttl", "later", "listings"), [(60.0, 59.9, 1), (60.0, 60.0, 2)])
def test_a_listing_serves_for_its_ttl_only(ttl: float, later: float, listings: int) -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0, ttl=ttl)
    reader.get(1000, 8)
    clock.now += later
    reader.get(1001, 8)
    assert client.listings == listings
    assert client.targeted == []


def test_the_default_ttl_is_a_minute() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    reader.get(1000, 8)
    clock.now += 59.9
    client.live.pop((1001, 8))
    assert reader.get(1001, 8) == info(1001), "still the listing's answer"
    clock.now += 0.1
    assert reader.get(1002, 8) == info(1002)
    assert client.listings == 2


def test_after_the_listing_expires_a_handed_out_entry_is_listed_again() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0, ttl=5)
    reader.get(1000, 8)
    clock.now += 5
    assert reader.get(1000, 8) == info(1000)
    assert client.listings == 2
    assert client.targeted == []


def test_own_changes_update_the_entries_held() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    reader.get(1000, 8)
    reader.note(1001, 8, True)
    assert reader.get(1001, 8) == info(1001, active=True)
    assert client.targeted == []


def test_an_own_change_to_an_unlisted_one_makes_the_next_read_ask_d6() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    reader.get(1000, 8)
    client.live[(2000, 8)] = info(2000, active=True)  # authorised after the listing
    reader.note(2000, 8, True)
    assert reader.get(2000, 8) == info(2000, active=True)
    assert client.targeted == [(2000, 8)]


def test_a_note_before_any_listing_changes_nothing_the_listing_says() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    reader.note(1000, 8, True)
    assert reader.get(1000, 8) == info(1000), "the listing's own answer"
    assert client.targeted == []


def test_readers_waiting_for_a_listing_share_it() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0)
    client.release_listing.clear()
    results: dict[int, ClientIntegrationInfo | None] = {}

    def read(school: int) -> None:
        results[school] = reader.get(school, 8)

    first = threading.Thread(target=read, args=(1000,))
    first.start()
    assert client.listing_started.wait(timeout=10)
    others = [threading.Thread(target=read, args=(s,)) for s in (1001, 1002, 4242)]
    for thread in others:
        thread.start()
    client.release_listing.set()
    for thread in [first, *others]:
        thread.join(timeout=10)
    assert results == {1000: info(1000), 1001: info(1001), 1002: info(1002), 4242: None}
    assert client.listings == 1
    assert client.targeted == []


def test_a_listing_already_stale_when_it_arrives_is_not_trusted() -> None:
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0, ttl=0)
    assert reader.get(1000, 8) == info(1000)
    assert reader.get(4242, 8) is None
    assert client.targeted == [(1000, 8), (4242, 8)], "asked d6 each time"


class WatchedLock:
    """A lock that lets the test wait until a given number of threads want it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted = threading.Condition()
        self.wanting = 0

    def __enter__(self) -> None:
        with self._wanted:
            self.wanting += 1
            self._wanted.notify_all()
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def wait_for(self, count: int) -> None:
        with self._wanted:
            assert self._wanted.wait_for(lambda: self.wanting >= count, timeout=10)


def read_into(
    results: dict[int, ClientIntegrationInfo | None], reader: BulkReader, school: int
) -> None:
    results[school] = reader.get(school, 8)


@pytest.mark.parametrize("rounds", [1, 2])
def test_a_reader_that_waited_for_a_fetch_uses_it_every_time(rounds: int) -> None:
    """Round after round (the listing expiring in between), a reader that queued behind the
    thread fetching the listing is answered by that listing, not by a second one."""
    client, clock = FakeClient(SCHOOLS), Clock()
    reader = reader_for(client, clock, targeted_reads=0, ttl=10)
    lock = WatchedLock()
    reader._fetch_lock = lock  # type: ignore[assignment]
    for done in range(rounds):
        clock.now += 10  # the last listing (if any) has expired
        client.release_listing.clear()
        client.listing_started.clear()
        results: dict[int, ClientIntegrationInfo | None] = {}
        first = threading.Thread(target=read_into, args=(results, reader, 1000))
        first.start()
        assert client.listing_started.wait(timeout=10)
        second = threading.Thread(target=read_into, args=(results, reader, 1001))
        second.start()
        lock.wait_for(2 * (done + 1))  # the second reader now waits behind the fetch
        client.release_listing.set()
        first.join(timeout=10)
        second.join(timeout=10)
        assert results == {1000: info(1000), 1001: info(1001)}
        assert client.listings == done + 1
    assert client.targeted == []
