"""The emulator's state: schools, API types and integrations in SQLite.

One connection guarded by one lock: SQLite serialises writers anyway, and the lock makes every
read-modify-write (such as "activate unless already active") atomic across server threads.
An integration row exists while the school has authorised the integrator; revoking deletes it.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_API_TYPES = {8: "Admin+ API", 9: "Curriculum+ API"}
FIRST_SCHOOL_ID = 1000
MAX_ID = 2**53 - 1  # the largest id a JSON double (and so the Pulumi engine) carries exactly
MAX_SEED = 50_000  # schools one seed may create (100,000 integrations, a few seconds)
MAX_INTEGRATIONS = 250_000  # what the emulator holds at most, however it is filled
SEED_CHUNK = 500  # schools written per hold of the store lock, so other requests interleave

_PLACES = (
    "Greenfield", "Riverside", "Hilltop", "Oakridge", "Sunnyvale", "Westbrook", "Lakeside",
    "Kingsway", "Meadowlands", "Stonebridge", "Fairview", "Rosebank", "Highveld", "Bayview",
    "Protea", "Jacaranda", "Baobab", "Karoo", "Drakensberg", "Umhlanga",
)  # fmt: skip
_KINDS = ("Primary School", "High School", "College", "Academy", "Preparatory School")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schools (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    admin_email_address TEXT NOT NULL,
    telephone_calling_code TEXT NOT NULL,
    telephone_number TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS integrations (
    school_id INTEGER NOT NULL REFERENCES schools(id),
    api_type_id INTEGER NOT NULL REFERENCES api_types(id),
    active INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, api_type_id)
);
"""

_SELECT = """
SELECT i.school_id, s.name, s.admin_email_address, s.telephone_calling_code,
       s.telephone_number, i.api_type_id, t.name, i.active
FROM integrations i JOIN schools s ON s.id = i.school_id JOIN api_types t ON t.id = i.api_type_id
"""


class StoreFull(Exception):
    """Refused: the store would hold more than ``MAX_INTEGRATIONS`` integrations."""


class SeedTooLarge(ValueError):
    """Refused: a seed above ``MAX_SEED``."""


@dataclass(frozen=True)
class School:
    school_id: int
    name: str
    admin_email_address: str
    telephone_calling_code: str
    telephone_number: str


@dataclass(frozen=True)
class Integration:
    school_id: int
    school_name: str
    admin_email_address: str
    telephone_calling_code: str
    telephone_number: str
    api_type_id: int
    api_type: str
    active: bool

    @property
    def key(self) -> tuple[int, int]:
        return (self.school_id, self.api_type_id)


def generated_school(school_id: int, name: str | None = None) -> School:
    """Deterministic, plausible details for a school (same id and name, same details). The name
    is made up from the id unless given; the admin's email is made from the name, so a school
    named "New School" is reached at ``admin@new-school...``, not at another school's address."""
    if name is None:
        n = school_id - FIRST_SCHOOL_ID
        place = _PLACES[n % len(_PLACES)]
        kind = _KINDS[(n // len(_PLACES)) % len(_KINDS)]
        series = n // (len(_PLACES) * len(_KINDS))
        name = f"{place} {kind}" + (f" {series + 1}" if series else "")
    phone = f"0{11 + (school_id * 7919) % 89}{(school_id * 104729) % 10**7:07d}"
    email = f"admin@{_mail_label(name, school_id)}.d6-emulator.test"
    return School(school_id, name, email, "27", phone)


def _mail_label(name: str, school_id: int) -> str:
    """The name as a domain label: ASCII letters and digits joined by ``-`` (accents dropped,
    at most 63 characters); ``school-<id>`` when nothing of the name is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    label = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].rstrip("-")
    return label or f"school-{school_id}"


class Store:
    """Thread-safe SQLite state. ``path`` may be ``":memory:"``."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path: str = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        with self._lock:
            for type_id, name in DEFAULT_API_TYPES.items():
                self._db.execute(
                    "INSERT OR IGNORE INTO api_types (id, name) VALUES (?, ?)", (type_id, name)
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------- admin

    def reset(self, seed: int = 0) -> None:
        """Forget every school and integration, then seed ``seed`` schools."""
        _check_seed(seed)
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM integrations")
            self._db.execute("DELETE FROM schools")
            self._db.execute("COMMIT")
        self.seed(seed)

    def seed(self, count: int) -> int:
        """Schools 1000.. authorised for API types 8 and 9, inactive; existing ones are kept.

        Written in chunks of ``SEED_CHUNK`` schools, each its own transaction under the lock, so
        a large seed never keeps the API waiting for more than one chunk.
        """
        _check_seed(count)
        if self.counts()["integrations"] + count * len(DEFAULT_API_TYPES) > MAX_INTEGRATIONS:
            raise StoreFull(f"the emulator holds at most {MAX_INTEGRATIONS} integrations")
        last = FIRST_SCHOOL_ID + count
        for first in range(FIRST_SCHOOL_ID, last, SEED_CHUNK):
            ids = range(first, min(first + SEED_CHUNK, last))
            with self._lock:
                self._db.execute("BEGIN")
                for school_id in ids:
                    self._insert_school(generated_school(school_id))
                self._db.executemany(
                    "INSERT OR IGNORE INTO integrations (school_id, api_type_id, active) "
                    "VALUES (?, ?, 0)",
                    [(school_id, type_id) for school_id in ids for type_id in DEFAULT_API_TYPES],
                )
                self._db.execute("COMMIT")
        return count

    def _insert_school(self, school: School, *, replace: bool = False) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        self._db.execute(
            f"{verb} INTO schools (id, name, admin_email_address, telephone_calling_code, "
            "telephone_number) VALUES (?, ?, ?, ?, ?)",
            (
                school.school_id,
                school.name,
                school.admin_email_address,
                school.telephone_calling_code,
                school.telephone_number,
            ),
        )

    def add_api_type(self, type_id: int, name: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO api_types (id, name) VALUES (?, ?)", (type_id, name)
            )

    def api_type_exists(self, type_id: int) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM api_types WHERE id = ?", (type_id,)).fetchone()
        return row is not None

    def authorise(
        self,
        school_id: int,
        api_type_id: int,
        *,
        active: bool = False,
        details: Mapping[str, str] | None = None,
        api_type: str | None = None,
    ) -> Integration:
        """What a school does in d6+: authorise the integrator for one API type.

        ``details`` (``School`` fields) replace what the school has; a school new to the store
        gets the rest generated from its id and its name (``generated_school``). ``api_type``
        names the API type. All in one hold of the lock; nothing is written when the store is
        full.
        """
        with self._lock:
            if self.get(school_id, api_type_id) is None and self._full():
                raise StoreFull(f"the emulator holds at most {MAX_INTEGRATIONS} integrations")
            given: dict[str, Any] = dict(details or {})
            known = self.school(school_id)
            base = known or generated_school(school_id, given.get("name"))
            self._insert_school(replace(base, **given), replace=True)
            if api_type is not None:
                self.add_api_type(api_type_id, api_type)
            elif not self.api_type_exists(api_type_id):
                self.add_api_type(api_type_id, f"API type {api_type_id}")
            self._db.execute(
                "INSERT INTO integrations (school_id, api_type_id, active) VALUES (?, ?, ?) "
                "ON CONFLICT (school_id, api_type_id) DO NOTHING",
                (school_id, api_type_id, int(active)),
            )
            found = self.get(school_id, api_type_id)
        assert found is not None
        return found

    def school(self, school_id: int) -> School | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, admin_email_address, telephone_calling_code, telephone_number "
                "FROM schools WHERE id = ?",
                (school_id,),
            ).fetchone()
        return None if row is None else School(*row)

    def revoke(self, school_id: int, api_type_id: int) -> bool:
        """The school withdraws its authorisation: the integration disappears from listings."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM integrations WHERE school_id = ? AND api_type_id = ?",
                (school_id, api_type_id),
            )
        return cur.rowcount > 0

    # ------------------------------------------------------------- API

    def get(self, school_id: int, api_type_id: int) -> Integration | None:
        with self._lock:
            row = self._db.execute(
                _SELECT + " WHERE i.school_id = ? AND i.api_type_id = ?", (school_id, api_type_id)
            ).fetchone()
        return _integration(row) if row else None

    def set_active(
        self, school_id: int, api_type_id: int, active: bool
    ) -> tuple[Integration, Integration] | None:
        """Atomically set the state; returns (before, after), or None when not authorised."""
        with self._lock:
            before = self.get(school_id, api_type_id)
            if before is None:
                return None
            if before.active != active:
                self._db.execute(
                    "UPDATE integrations SET active = ? WHERE school_id = ? AND api_type_id = ?",
                    (int(active), school_id, api_type_id),
                )
            after = self.get(school_id, api_type_id)
        assert after is not None
        return before, after

    def list(
        self,
        *,
        school_id: int | None = None,
        api_type_id: int | None = None,
        after: tuple[int, int] | None = None,
        limit: int | None = None,
        reverse: bool = False,
    ) -> list[Integration]:
        """Keyset-ordered listing by (school_id, api_type_id), starting after ``after``."""
        where: list[str] = []
        args: list[object] = []
        if school_id is not None:
            where.append("i.school_id = ?")
            args.append(school_id)
        if api_type_id is not None:
            where.append("i.api_type_id = ?")
            args.append(api_type_id)
        if after is not None:
            where.append(f"(i.school_id, i.api_type_id) {'<' if reverse else '>'} (?, ?)")
            args.extend(after)
        order = "DESC" if reverse else "ASC"
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY i.school_id {order}, i.api_type_id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_integration(row) for row in rows]

    def _full(self) -> bool:
        """Revoked schools and made-up API types stay, so they count against the limit too."""
        with self._lock:
            sizes = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM integrations), (SELECT COUNT(*) FROM schools), "
                "(SELECT COUNT(*) FROM api_types)"
            ).fetchone()
        return bool(max(sizes) >= MAX_INTEGRATIONS)

    def counts(self) -> dict[str, int]:
        with self._lock:
            schools = self._db.execute("SELECT COUNT(*) FROM schools").fetchone()[0]
            total, active = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(active), 0) FROM integrations"
            ).fetchone()
        return {"schools": schools, "integrations": total, "active": active}


def _check_seed(count: int) -> None:
    if not 0 <= count <= MAX_SEED:
        raise SeedTooLarge(f"seed must be between 0 and {MAX_SEED}")


def _integration(row: tuple[object, ...]) -> Integration:
    sid, name, email, code, phone, tid, type_name, active = row
    return Integration(
        school_id=int(str(sid)),
        school_name=str(name),
        admin_email_address=str(email),
        telephone_calling_code=str(code),
        telephone_number=str(phone),
        api_type_id=int(str(tid)),
        api_type=str(type_name),
        active=bool(active),
    )
