"""Secrets audit: the password appears nowhere a user, a log or the state could show it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_d6.testing.engine import EngineError, EngineStack, ProviderProcess, from_struct
from pulumi_d6.testing.processes import EmulatorProcess

from ..dead_ends import echoing_server, silent_server

PASSWORD = "Zebra-Secret-Canary-7341"
WRONG = "Wrong-Canary-Password-1188"
V2 = "/api/v2/settings/clientintegrations"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    """The emulator as users run it (CLI, access log on), so its own logs can be searched."""
    args = ["--seed", "5", "--db", str(tmp_path / "d6.db"), "--password", PASSWORD]
    with EmulatorProcess(*args, "--access-log") as emu:
        yield emu


def test_the_password_appears_nowhere(emulator: EmulatorProcess) -> None:
    debug = {"D6_LOG_LEVEL": "DEBUG"}
    config = {
        "d6:username": "demo",
        "d6:password": PASSWORD,
        "d6:baseUrl": emulator.base_url,
        "d6:maxRetries": "1",
        "d6:timeoutSeconds": "0.5",
    }
    seen: list[str] = []  # every text a user could see
    good = ProviderProcess(config, env=debug)
    wrong = ProviderProcess({**config, "d6:password": WRONG}, env=debug)
    from_env = ProviderProcess(
        {"d6:baseUrl": emulator.base_url},
        env={**debug, "D6_USERNAME": "demo", "D6_PASSWORD": PASSWORD},
    )
    try:
        stack = EngineStack(good)
        created = stack.up("a", {"school_id": 1000, "api_type_id": 8})
        assert created.state is not None
        updated = stack.up(
            "a", {"school_id": 1000, "api_type_id": 8, "active": False}, created.state
        )
        assert updated.state is not None
        refreshed = stack.refresh(updated.state)
        assert refreshed.state is not None
        states = [created.state, updated.state, refreshed.state]
        for state in states:
            seen.append(repr(from_struct(state.outputs)))
            seen.append(repr(from_struct(state.inputs)))
            seen.append(
                base64.b64decode(from_struct(state.outputs)["__provider"]).decode("latin-1")
            )
        with pytest.raises(EngineError) as not_authorised:
            stack.up("b", {"school_id": 9999, "api_type_id": 8})
        with pytest.raises(EngineError) as bad_credentials:
            EngineStack(wrong).up("c", {"school_id": 1001, "api_type_id": 8})
        emulator.admin.inject("status", status=503, count=10, route=V2)
        with pytest.raises(EngineError) as unavailable:
            stack.up("d", {"school_id": 1002, "api_type_id": 8})
        emulator.admin.clear_faults()
        for err in (not_authorised, bad_credentials, unavailable):
            seen.append(err.value.details)
        with (
            silent_server() as silent,
            ProviderProcess({**config, "d6:baseUrl": silent}, env=debug) as unanswered,
        ):
            with pytest.raises(EngineError) as timed_out:
                EngineStack(unanswered).refresh(refreshed.state)
            seen.append(timed_out.value.details)
        seen.append(unanswered.output)
        assert "no answer within d6:timeoutSeconds=0.5s" in timed_out.value.details
        env_created = EngineStack(from_env).up("e", {"school_id": 1003, "api_type_id": 9})
        assert env_created.state is not None
        seen.append(repr(from_struct(env_created.state.outputs)))
        stack.destroy(refreshed.state)
    finally:
        for process in (good, wrong, from_env):
            process.close()
            seen.append(process.output)
    emulator.stop()
    seen.append(emulator.output)
    everything = "\n".join(seen)
    assert "retrying" in everything, "DEBUG logs were on"
    assert "HTTP-X-PASSWORD': '<redacted>'" in everything
    assert "GET /api/v2/settings/clientintegrations" in everything, (
        "the emulator's access log was captured"
    )
    assert "School 9999 has not authorised" in everything
    assert "d6 rejected the integrator credentials" in everything
    assert everything.count(PASSWORD) == 0
    assert everything.count(WRONG) == 0


ECHOES = [
    (500, "text/html", "<html><pre>Whoops! Request headers:\n{headers}</pre></html>"),
    (400, "application/json", '{"success": false, "message": "Bad request with {headers}"}'),
    (401, "application/json", '{"success": false, "message": "Invalid API credentials {headers}"}'),
    (200, "text/html", "<html>{headers}</html>"),
    (200, "application/json", '{"data": [{"school_id": "{headers}"}]}'),
]


@pytest.mark.parametrize(("status", "content_type", "body"), ECHOES)
def test_a_server_that_echoes_the_request_headers_never_echoes_the_password(
    status: int, content_type: str, body: str
) -> None:
    """A debug error page (or a gateway) shows the request's headers: d6's answer is quoted in
    errors and logs, the password in it never is."""
    with echoing_server(status, content_type, body) as url:
        config = {
            "d6:username": "demo",
            "d6:password": PASSWORD,
            "d6:baseUrl": url,
            "d6:maxRetries": "0",
        }
        with ProviderProcess(config, env={"D6_LOG_LEVEL": "DEBUG"}) as process:
            try:  # a 200 to the change is success; reading the details then fails (a warning)
                EngineStack(process).up("a", {"school_id": 1000, "api_type_id": 8})
                details = ""
            except EngineError as failed:
                details = failed.details
        seen = details + process.output
        assert "HTTP-X-PASSWORD: ***" in seen, "the answer is quoted, scrubbed"
        assert PASSWORD[:12] not in seen, "nor cut short"
        assert (status == 200 and content_type == "application/json") is (details == "")
