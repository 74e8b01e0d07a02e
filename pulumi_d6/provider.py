"""ClientIntegrationProvider: the Pulumi dynamic provider behind ``ClientIntegration``.

The whole lifecycle is in this file, in the order the engine calls it:

* ``configure``: keeps the ``d6:*`` stack config (plaintext here; never pickled).
* ``check``: validates and normalises inputs locally (numbers arrive as floats, unknowns in
  preview); one ``CheckFailure`` per bad field. No API calls.
* ``diff``: compares the declared inputs with the last outputs; ``school_id``/``api_type_id``
  replace, ``active``/``deactivate_on_destroy`` update. No API calls.
* ``create``: sets the integration to ``active`` ("already in that state" is adoption); with
  ``active: false`` it reads first and changes only an integration d6 shows active.
* ``update``: one state change when ``active`` changed, none otherwise.
* ``read``: the live state; an integration no longer listed (revoked) returns an empty id.
* ``delete``: deactivates when ``deactivate_on_destroy`` and active; gone is success.

Every deactivation takes a unit of this process's budget (``budget.py``) before it is sent.

The instance pickled into ``__provider`` carries nothing: settings and the HTTP client are made
in the provider process, lazily and under a lock, and ``__getstate__`` drops them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from .budget import DeactivationBudget
from .bulkread import BulkReader
from .client import D6Client
from .errors import (
    D6ConnectionError,
    D6Error,
    InvalidResponseError,
    InvalidValueError,
    MissingCredentialsError,
    NotAuthorisedError,
    RateLimitedError,
    ResourceError,
    ServerError,
    SettingsError,
    not_authorised_message,
)
from .integration import FLAG_DEFAULTS, ID_FIELDS, IntegrationSpec
from .logs import configure_from_env
from .models import ClientIntegrationInfo, StateChange, parse_flag, parse_id
from .settings import resolve_settings, stack_config_of

log: logging.Logger = logging.getLogger("pulumi_d6.provider")

# d6 may or may not have applied a change whose answer was lost or garbled: look before failing.
AMBIGUOUS_ERRORS = (InvalidResponseError, D6ConnectionError, ServerError, RateLimitedError)
# One provider per process serves 4 engine threads; locks cannot be pickled, so it lives here.
_CONNECT_LOCK = threading.Lock()


def _checked(parse: Callable[[], Any], value: Any) -> tuple[Any, str | None]:
    """Run one shared parser; unknowns (preview) pass through untouched."""
    if isinstance(value, Unknown):
        return value, None
    try:
        return parse(), None
    except InvalidValueError as exc:
        return None, str(exc)


def _differs(old: Any, new: Any, default: Any = None) -> bool:
    if isinstance(new, Unknown) or isinstance(old, Unknown):
        return True
    old = default if old is None else old
    new = default if new is None else new
    if isinstance(old, float | int) and isinstance(new, float | int):
        return bool(float(old) != float(new))
    return bool(old != new)


@dataclass(frozen=True)
class _Connection:
    """What one provider process talks to d6 with, built once on first use."""

    client: D6Client
    reader: BulkReader  # reads for refresh: targeted at first, then one shared listing
    budget: DeactivationBudget  # deactivations this process (one Pulumi operation) may send


def _config_key(config: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, repr(value)) for key, value in config.items()))


# What this process talks to d6 with, per configuration: one budget, one reader, one client for
# every provider instance configured alike. ``python -m pulumi.dynamic`` unpickles one instance
# per distinct ``__provider`` text, and state written by another Python or dill (another pickle
# protocol) holds another text for the same class: a per-instance budget would then allow
# ``d6:maxDeactivations`` once per text in one run. Guarded by ``_CONNECT_LOCK``.
_CONNECTIONS: dict[tuple[tuple[str, str], ...], _Connection] = {}


def forget_connections() -> None:
    """Start this process afresh, as a new provider process would (for in-process tests):
    the next call builds a new client, reader and budget."""
    with _CONNECT_LOCK:
        _CONNECTIONS.clear()


class ClientIntegrationProvider(ResourceProvider):
    """Activates and deactivates d6+ SAMS client integrations."""

    serialize_as_secret_always = False

    # Class-level defaults: an unpickled instance has no attributes at all (its state is empty).
    _config: Mapping[str, Any] = MappingProxyType({})
    _connected: _Connection | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Nothing of this process (config, client, credentials) goes into ``__provider``.

        An empty state also means pickle never calls ``__setstate__``: nothing to restore.
        """
        return {}

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the ``d6:*`` stack config; the client is built on first use."""
        configure_from_env()
        config = stack_config_of(req.config.get)
        with _CONNECT_LOCK:
            self._config = config
            self._connected = None

    # ------------------------------------------------------------- check, diff

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs: dict[str, Any] = {}
        failures: list[CheckFailure] = []
        for name in ID_FIELDS:
            value = news.get(name)
            inputs[name], reason = _checked(partial(parse_id, value, name), value)
            if reason:
                failures.append(CheckFailure(name, reason))
        for name, default in FLAG_DEFAULTS.items():
            value = news.get(name)
            inputs[name], reason = _checked(partial(parse_flag, value, name, default), value)
            if reason:
                failures.append(CheckFailure(name, reason))
        return CheckResult({k: v for k, v in inputs.items() if v is not None}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [name for name in ID_FIELDS if _differs(olds.get(name), news.get(name))]
        updates = [
            name
            for name, default in FLAG_DEFAULTS.items()
            if _differs(olds.get(name), news.get(name), default)
        ]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces)

    # ------------------------------------------------------------ create, update

    def create(self, props: dict[str, Any]) -> CreateResult:
        want = IntegrationSpec.of(props)
        with self._translating(want):
            if want.active:
                info = self._set_state(want, True).integration
            else:
                info = self._create_inactive(want)
        if info is None:
            info = self._details(want)
        return CreateResult(want.id, want.outputs(live_active=want.active, info=info))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = IntegrationSpec.of(news)
        info = None
        if want.active != IntegrationSpec.of(olds).active:
            with self._translating(want):
                if want.active:
                    info = self._set_state(want, True).integration
                else:
                    info = self._deactivate(want)
        return UpdateResult(want.outputs(live_active=want.active, info=info, previous=olds))

    # ------------------------------------------------------------ read, delete

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        known = IntegrationSpec.from_state(id_, props)
        with self._translating(known, "read"):
            info = self._connection().reader.get(known.school_id, known.api_type_id)
        if info is None:
            log.info("integration %s is no longer authorised by the school; dropping it", id_)
            return ReadResult("", {})
        return ReadResult(
            id_,
            known.outputs(live_active=info.active, info=info),
            known.inputs(active=info.active),
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        state = IntegrationSpec.from_state(id_, props)
        if not state.deactivate_on_destroy:
            log.info("%s: deactivate_on_destroy is false; forgetting it without an API call", id_)
            return
        if not state.active:
            return
        with self._translating(state, "deactivate"):
            try:
                self._deactivate(state)
            except NotAuthorisedError:
                log.info("%s: the school no longer authorises it; nothing to deactivate", id_)

    # ----------------------------------------------------------------- helpers

    def _connection(self) -> _Connection:
        with _CONNECT_LOCK:
            if self._connected is None:
                key = _config_key(self._config)
                shared = _CONNECTIONS.get(key)
                if shared is None:
                    settings = resolve_settings(config=self._config, env=os.environ)
                    client = D6Client(settings)
                    budget = DeactivationBudget.of(settings)
                    shared = _CONNECTIONS[key] = _Connection(client, BulkReader(client), budget)
                self._connected = shared
            return self._connected

    def _create_inactive(self, want: IntegrationSpec) -> ClientIntegrationInfo | None:
        """A create with ``active: false`` (exclusive mode makes thousands): look first.

        The live state comes through the bulk reader, so many such creates cost a few listing
        pages. An inactive one is adopted as it is, without a change request; only an active
        one is deactivated (a unit of the budget). One d6 does not list is refused as not
        authorised, like any change to it would be: nothing is sent.
        """
        live = self._connection().reader.get(want.school_id, want.api_type_id)
        if live is None:
            raise ResourceError(_not_authorised(want))
        if not live.active:
            log.info("%s: already inactive in d6; adopted without a change request", want.id)
            return live
        return self._deactivate(want)

    def _deactivate(self, want: IntegrationSpec) -> ClientIntegrationInfo | None:
        """Deactivate within this run's budget (docs: "Safety for unattended runs").

        A unit is taken before anything is sent and given back when d6 deactivated nothing:
        not authorised, or "already deactivated" (``changed`` is True for that answer when an
        earlier attempt lost its answer and so may have deactivated it: the unit stays).
        """
        connection = self._connection()
        budget = connection.budget
        budget.take(want.school_id, want.api_type_id)
        try:
            change = self._set_state(want, False)
        except NotAuthorisedError:
            budget.give_back()
            raise
        if not change.changed:
            budget.give_back()
        return change.integration

    def _set_state(self, want: IntegrationSpec, active: bool) -> StateChange:
        """Change the state; raises d6's own errors.

        When the answer is lost or garbled the change may still have happened, so the live
        state is read back: if it already is what we asked for, that is success.
        """
        connection = self._connection()
        client = connection.client
        try:
            change = client.set_state(want.school_id, want.api_type_id, active)
        except AMBIGUOUS_ERRORS as exc:
            try:
                live = client.get_integration(want.school_id, want.api_type_id)
            except D6Error:
                live = None
            if live is None or live.active != active:
                raise
            log.warning("%s: the change answered badly (%s) but d6 shows it done", want.id, exc)
            change = StateChange(
                school_id=want.school_id,
                api_type_id=want.api_type_id,
                active=active,
                changed=True,
                integration=live,
            )
        connection.reader.note(want.school_id, want.api_type_id, active)
        return change

    def _details(self, want: IntegrationSpec) -> ClientIntegrationInfo | None:
        """d6's descriptive fields after a change that did not return them (v1's 204).

        The change is done; failing here would leave an active integration out of state,
        so a failed read only costs the descriptive outputs until the next refresh.
        """
        try:
            return self._connection().client.get_integration(want.school_id, want.api_type_id)
        except D6Error as exc:
            log.warning("%s: state set, but reading its details failed: %s", want.id, exc)
            return None

    @contextmanager
    def _translating(self, spec: IntegrationSpec, action: str | None = None) -> Iterator[None]:
        """Turn d6's errors into ones a user can act on without reading code (as python-gitlab's
        ``on_http_error``): the one place where client errors become resource errors."""
        doing = f"{action or ('activate' if spec.active else 'deactivate')} {spec.id}"
        try:
            yield
        except NotAuthorisedError as exc:
            raise ResourceError(_not_authorised(spec)) from exc
        except MissingCredentialsError:
            raise  # its message already says every way to set them
        except SettingsError as exc:
            raise SettingsError(
                f"{exc} (while trying to {doing}). Fix it in stack config or the D6_* environment."
            ) from None
        except ResourceError:
            raise
        except D6Error as exc:
            raise ResourceError(f"Could not {doing}: {exc}") from exc


def _not_authorised(spec: IntegrationSpec) -> str:
    return not_authorised_message(spec.school_id, spec.api_type_id, "pulumi up")
