"""A small client for the emulator's admin routes, for tests, benchmarks and users' own CI.

It answers with typed records: an integration is the API's own :class:`ClientIntegrationInfo`
(the emulator's record *is* the API shape), the rest are the TypedDicts of the admin JSON
(``shapes.py``).
"""

from __future__ import annotations

from typing import Any

import requests

from ..models import ClientIntegrationInfo
from .requestlog import LogCount, LogEntry, RequestLogSnapshot
from .shapes import Health, PendingFault

__all__ = [
    "EmulatorAdmin",
    "Health",
    "LogCount",
    "LogEntry",
    "PendingFault",
    "RequestLogSnapshot",
]


class EmulatorAdmin:
    """Drives ``/_emulator``: reset, authorise, revoke, drift, faults and request counts."""

    def __init__(self, admin_url: str, *, timeout: float = 30.0) -> None:
        self.admin_url: str = admin_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._session.request(
            method, f"{self.admin_url}{path}", timeout=self.timeout, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def health(self) -> Health:
        result: Health = self._call("GET", "/health")
        return result

    def reset(self, seed: int = 0) -> None:
        self._call("POST", "/reset", json={"seed": seed})

    def authorise(
        self, school_id: int, api_type_id: int, *, active: bool = False, **details: str
    ) -> ClientIntegrationInfo:
        body = {"school_id": school_id, "api_type_id": api_type_id, "active": active, **details}
        return ClientIntegrationInfo.model_validate(
            self._call("POST", "/authorisations", json=body)
        )

    def revoke(self, school_id: int, api_type_id: int) -> bool:
        return bool(self._call("DELETE", f"/authorisations/{school_id}/{api_type_id}")["revoked"])

    def integration(self, school_id: int, api_type_id: int) -> ClientIntegrationInfo | None:
        response = self._session.get(
            f"{self.admin_url}/integrations/{school_id}/{api_type_id}", timeout=self.timeout
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return ClientIntegrationInfo.model_validate(response.json())

    def is_active(self, school_id: int, api_type_id: int) -> bool | None:
        found = self.integration(school_id, api_type_id)
        return None if found is None else found.active

    def set_active(self, school_id: int, api_type_id: int, active: bool) -> None:
        """Drift: change the state as if someone did it in the d6+ UI."""
        self._call("PUT", f"/integrations/{school_id}/{api_type_id}", json={"active": active})

    def inject(
        self,
        kind: str,
        *,
        route: str = "*",
        method: str = "*",
        count: int = 1,
        status: int = 503,
        retry_after: str | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        self._call(
            "POST",
            "/faults",
            json={
                "kind": kind,
                "route": route,
                "method": method,
                "count": count,
                "status": status,
                "retry_after": retry_after,
                "delay_seconds": delay_seconds,
            },
        )

    def pending_faults(self) -> list[PendingFault]:
        result: list[PendingFault] = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self, last: int = 100) -> RequestLogSnapshot:
        result: RequestLogSnapshot = self._call("GET", "/requests", params={"last": last})
        return result

    def count(
        self, *, method: str | None = None, route: str | None = None, status: int | None = None
    ) -> int:
        """How many /api requests matched (all of them when no filter is given)."""
        total = 0
        for row in self.requests(last=0)["counts"]:
            if method is not None and row["method"] != method:
                continue
            if route is not None and row["route"] != route:
                continue
            if status is not None and row["status"] != status:
                continue
            total += int(row["count"])
        return total

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def close(self) -> None:
        self._session.close()
