"""Property: whatever the password is, no error path shows it, raw, URL-encoded or base64.

Passwords are drawn from arbitrary text. One an HTTP header cannot carry must be refused by
settings (naming its source); any other is accepted by a fresh emulator and then driven through
every error path with DEBUG logs on: bad credentials, not authorised, 500, 429, timeout,
connection refused, validation failed and invalid settings. Errors (with their whole chain),
outputs, the pickled ``__provider``, everything logged (the emulator's server and access logs
too) and what the emulator says at start (or when it refuses the password) are searched.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_d6.emulator import EmulatorAdmin, EmulatorConfig, EmulatorServer
from pulumi_d6.emulator.credentials import PASSWORD_VARIABLE, announcement, credential_problem
from pulumi_d6.errors import D6Error, SettingsError
from pulumi_d6.provider import ClientIntegrationProvider
from pulumi_d6.settings import header_problem, resolve_settings

from ..dead_ends import refusing_server, silent_server

V2 = "/api/v2/settings/clientintegrations"


def forms(secret: str) -> set[str]:
    found = {secret, quote(secret, safe=""), quote_plus(secret)}
    for encoding in ("utf-8", "latin-1"):
        with contextlib.suppress(UnicodeEncodeError):
            found.add(base64.b64encode(secret.encode(encoding)).decode())
    return found


def provider_for(base_url: str, password: str, **extra: str) -> ClientIntegrationProvider:
    provider = ClientIntegrationProvider()
    config = {
        "d6:username": "demo",
        "d6:password": password,
        "d6:baseUrl": base_url,
        "d6:maxRetries": "0",
        "d6:timeoutSeconds": "0.3",
        **extra,
    }
    provider.configure(ConfigureRequest(Config(config, "d6-integrations")))
    return provider


def attempt(seen: list[str], action: Callable[[], Any]) -> D6Error:
    """Run ``action``, which must fail with one of our errors; keep the text of every exception
    in its chain (what a traceback shows besides source lines, which are code, not data)."""
    try:
        result = action()
    except D6Error as exc:
        link: BaseException | None = exc
        while link is not None:
            seen.extend(traceback.format_exception_only(link))
            seen.append(repr(link))
            link = link.__cause__ or link.__context__
        return exc
    raise AssertionError(f"expected an error, got {result!r}")


def create(provider: ClientIntegrationProvider, school_id: int, api_type_id: int = 8) -> Any:
    return provider.create({"school_id": school_id, "api_type_id": api_type_id, "active": True})


# Half arbitrary text (mostly refused: it rarely fits a header), half printable Latin-1 with the
# characters that break naive encoders (% + / = " ' \\ : @ and accented letters), accepted.
header_safe = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
# Hypothesis also draws strings from the project's own source (its "local constants"): a password
# that *is* a piece of our code or fixtures appears in messages by coincidence, not by a leak.
ROOT = Path(__file__).resolve().parents[2]
OUR_TEXT = "\n".join(
    p.read_text() for d in ("pulumi_d6", "tests") for p in (ROOT / d).rglob("*.py")
)
passwords = st.one_of(
    st.text(min_size=12, max_size=40),
    st.text(header_safe, min_size=12, max_size=40).filter(lambda s: s == s.strip()),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(password=passwords)
def test_no_error_path_shows_the_password(password: str) -> None:
    assume(password not in OUR_TEXT)
    seen: list[str] = []
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    try:
        with logged_to(handler, "pulumi_d6"):
            exercise(password, seen, handler)
    finally:
        handler.close()
    seen.append(stream.getvalue())
    everything = "\n".join(seen)
    for form in forms(password):
        assert form not in everything, f"{form!r} leaked"


@contextlib.contextmanager
def logged_to(handler: logging.Handler, *names: str) -> Iterator[None]:
    """Every record of these loggers, DEBUG up, also goes to ``handler``."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def exercise(password: str, seen: list[str], handler: logging.Handler) -> None:
    # Invalid settings, whatever the password: another value is wrong.
    error = attempt(
        seen,
        lambda: resolve_settings(
            {"username": "demo", "password": password, "timeout_seconds": "soon"}, env={}
        ),
    )
    assert isinstance(error, SettingsError)

    refused = header_problem(password)
    event("refused by settings" if refused else "driven through every error path")
    # The emulator started with it: what it says, and whether it refuses it as the client does.
    emulator_refusal = credential_problem(password, PASSWORD_VARIABLE, "password")
    seen.extend([announcement("demo", "default", PASSWORD_VARIABLE), emulator_refusal or ""])
    assert (emulator_refusal is None) == (refused is None)
    if refused is not None:
        error = attempt(seen, lambda: create(provider_for("http://127.0.0.1:9/api", password), 1))
        assert isinstance(error, SettingsError)
        assert f"d6:password {refused}" in str(error)
        return

    config = EmulatorConfig(password=password)
    server = EmulatorServer(config, seed=3, log_level="debug", access_log=True)
    with server, logged_to(handler, "uvicorn", "uvicorn.error", "uvicorn.access"):
        admin = EmulatorAdmin(server.admin_url)
        try:
            provider = provider_for(server.base_url, password)
            good = create(provider, 1000)  # a success, for its outputs and the pickle
            seen.append(repr(good.outs))
            seen.append(base64.b64decode(serialize_provider(provider)).decode("latin-1"))

            wrong = provider_for(server.base_url, password[::-1] + "x")
            assert "credentials" in str(attempt(seen, lambda: create(wrong, 1001)))
            assert "not authorised" in str(attempt(seen, lambda: create(provider, 4242)))
            assert "Validation Failed" in str(attempt(seen, lambda: create(provider, 1001, 77)))
            admin.inject("status", status=500, count=5, route=V2)
            attempt(seen, lambda: create(provider, 1001))
            admin.clear_faults()
            admin.inject("status", status=429, retry_after="0", count=5, route=V2)
            attempt(seen, lambda: create(provider, 1001))
            admin.clear_faults()
        finally:
            admin.close()
    with silent_server() as silent:
        timed_out = attempt(seen, lambda: create(provider_for(silent, password), 1002))
        assert "no answer within d6:timeoutSeconds=0.3s" in str(timed_out)
    with refusing_server() as refusing:
        unreachable = attempt(seen, lambda: create(provider_for(refusing, password), 1))
        assert "could not reach d6" in str(unreachable)
