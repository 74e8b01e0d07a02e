"""A recorded-answer d6 (``responses``) whose state changes can apply and still lose the answer.

In-process, so mutation testing (``make mutate``) sees the provider through it; the real-HTTP
emulator cannot apply a change and then lose its answer on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_d6.provider import ClientIntegrationProvider

BASE = "https://d6.example.test/api"
V2 = f"{BASE}/v2/settings/clientintegrations"
PASSWORD = "Fake-D6-Pw-5521"

Answer = tuple[int, dict[str, str], str] | Exception


def record(school: int, api_type: int = 8, active: bool = False) -> dict[str, Any]:
    """One integration as d6 v2 lists it."""
    return {
        "school_id": school,
        "school_name": f"School {school}",
        "admin_email_address": f"admin@{school}.example",
        "telephone_calling_code": "27",
        "telephone_number": "0123334444",
        "api_type_id": api_type,
        "api_type": "Admin+ API" if api_type == 8 else f"API type {api_type}",
        "activated_by_integrator": "Yes" if active else "No",
    }


def answer_lost() -> Exception:
    return requests.exceptions.ConnectionError("Connection aborted: remote end closed")


def status_answer(status: int, message: str = "busy") -> Answer:
    return status, {}, json.dumps({"success": False, "message": message})


GARBLED: Answer = (200, {}, '{"success": true, "mess')


@dataclass
class FakeD6:
    """Authorised integrations and their state; how each change request is answered."""

    state: dict[tuple[int, int], bool] = field(default_factory=dict)
    apply_changes: bool = True  # False: d6 never applies them (the change really failed)
    change_answer: Answer | None = None  # None: d6's normal success answer
    list_answer: Answer | None = None  # None: the listing of ``state``
    # Listed next to the integrations under test, so that a read for the wrong school or API
    # type (or with a filter dropped) gets the wrong record, not by luck the right one.
    neighbours: dict[tuple[int, int], bool] = field(
        default_factory=lambda: {(999, 8): True, (1000, 7): True}
    )
    changes_sent: int = 0
    lists_sent: int = 0

    def on_change(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.changes_sent += 1
        body = json.loads(request.body)
        key = (int(body["school_id"]), int(body["api_type_id"]))
        want = bool(body["state"])
        if key not in self.state:
            return (
                401,
                {},
                json.dumps({"success": False, "message": "Client has not authorised access"}),
            )
        was = self.state[key]
        if self.apply_changes:
            self.state[key] = want
        if self.change_answer is not None:
            return self._answer(self.change_answer)
        verb = "activated" if want else "deactivated"
        if was == want:
            return 400, {}, json.dumps({"success": False, "message": f"Integration already {verb}"})
        return 200, {}, json.dumps({"success": True, "message": f"Integration successfully {verb}"})

    def on_list(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.lists_sent += 1
        if self.list_answer is not None:
            return self._answer(self.list_answer)
        query = parse_qs(urlsplit(request.url).query)
        wanted = {k: int(v[0]) for k, v in query.items() if k in ("school_id", "api_type_id")}
        listed = {**self.neighbours, **self.state}
        data = [
            record(school, api_type, active)
            for (school, api_type), active in sorted(listed.items())
            if wanted.get("school_id", school) == school
            and wanted.get("api_type_id", api_type) == api_type
        ]
        return 200, {}, json.dumps({"data": data, "meta": {"limit": 50, "max_allowed_limit": 50}})

    @staticmethod
    def _answer(answer: Answer) -> tuple[int, dict[str, str], str]:
        if isinstance(answer, Exception):
            raise answer
        return answer


@contextmanager
def serving(d6: FakeD6) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("PATCH", V2, callback=d6.on_change)
        mock.add_callback("GET", V2, callback=d6.on_list)
        yield mock


def provider(**config: str) -> ClientIntegrationProvider:
    """A provider configured as the engine would, pointing at the fake d6."""
    made = ClientIntegrationProvider()
    values = {"d6:username": "integrator", "d6:password": PASSWORD, "d6:baseUrl": BASE}
    values.update(config)
    made.configure(ConfigureRequest(Config(values, "d6-integrations")))
    return made
