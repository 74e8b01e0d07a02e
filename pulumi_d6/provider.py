"""ClientIntegrationProvider: the Pulumi dynamic provider behind ``ClientIntegration``.

The whole lifecycle is in this file, in the order the engine calls it:

* ``configure``: keeps the ``d6:*`` stack config (plaintext here; never pickled).
* ``check``: validates and normalises inputs locally (numbers arrive as floats, unknowns in
  preview); one ``CheckFailure`` per bad field. No API calls.
* ``diff``: compares the declared inputs with the last outputs; ``school_id``/``api_type_id``
  replace, ``active``/``deactivate_on_destroy`` update. No API calls.
* ``create``: sets the integration to ``active`` ("already in that state" is adoption).
* ``update``: one state change when ``active`` changed, none otherwise.
* ``read``: the live state; an integration no longer listed (revoked) returns an empty id.
* ``delete``: deactivates when ``deactivate_on_destroy`` and active; gone is success.

The instance pickled into ``__provider`` carries nothing: settings and the HTTP client are made
in the provider process, lazily and under a lock, and ``__getstate__`` drops them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
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

from .bulkread import BulkReader
from .client import D6Client
from .errors import (
    BadCredentialsError,
    D6ConnectionError,
    D6Error,
    InvalidResponseError,
    MissingCredentialsError,
    NotAuthorisedError,
    RateLimitedError,
    ResourceError,
    ServerError,
    SettingsError,
)
from .logs import configure_from_env
from .models import ClientIntegrationInfo, ascii_digits, whole_number
from .settings import SETTING_KEYS, D6Settings, resolve_settings

log = logging.getLogger("pulumi_d6.provider")

ID_FIELDS = ("school_id", "api_type_id")
FLAG_DEFAULTS = {"active": True, "deactivate_on_destroy": True}
DESCRIPTIVE_FIELDS = (
    "school_name",
    "admin_email_address",
    "telephone_calling_code",
    "telephone_number",
    "api_type",
)
# d6 may or may not have applied a change whose answer was lost or garbled: look before failing.
AMBIGUOUS_ERRORS = (InvalidResponseError, D6ConnectionError, ServerError, RateLimitedError)

_INIT_LOCK = threading.Lock()


# ------------------------------------------------------------------ inputs


def _check_id(field: str, value: Any) -> tuple[Any, str | None]:
    """A positive whole number (floats from the wire, digit strings from config); Unknown kept."""
    expected = f"{field} must be a whole number greater than 0"
    if isinstance(value, Unknown):
        return value, None
    if value is None:
        return None, f"{field} is required: {expected[len(field) + 1 :]}"
    if isinstance(value, bool):
        return None, f"{expected}, got a boolean ({value})"
    number = whole_number(value)
    if number is None:
        shown = repr(value) if isinstance(value, float) else f"{type(value).__name__} {value!r}"
        return None, f"{expected}, got {shown}"
    if number <= 0:
        return None, f"{expected}, got {number}"
    return number, None


def _check_flag(field: str, value: Any) -> tuple[Any, str | None]:
    """A boolean ("true"/"false" from config accepted); missing means the default."""
    if isinstance(value, Unknown):
        return value, None
    if value is None:
        return FLAG_DEFAULTS[field], None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true", None
    return None, f"{field} must be true or false, got {type(value).__name__} {value!r}"


@dataclass(frozen=True)
class Declared:
    """Checked inputs (or a state's outputs) as Python values."""

    school_id: int
    api_type_id: int
    active: bool
    deactivate_on_destroy: bool

    @classmethod
    def of(cls, props: Mapping[str, Any]) -> Declared:
        def flag(name: str) -> bool:
            value = props.get(name)
            return FLAG_DEFAULTS[name] if value is None else bool(value)

        return cls(
            school_id=int(props["school_id"]),
            api_type_id=int(props["api_type_id"]),
            active=flag("active"),
            deactivate_on_destroy=flag("deactivate_on_destroy"),
        )

    @property
    def id(self) -> str:
        return f"{self.school_id}/{self.api_type_id}"

    def inputs(self, *, active: bool | None = None) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "api_type_id": self.api_type_id,
            "active": self.active if active is None else active,
            "deactivate_on_destroy": self.deactivate_on_destroy,
        }

    def outputs(
        self,
        *,
        live_active: bool,
        info: ClientIntegrationInfo | None,
        previous: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Every input with ``active`` live, plus d6's descriptive fields (kept from before
        when d6 did not send them this time)."""
        outs = self.inputs(active=live_active)
        for name in DESCRIPTIVE_FIELDS:
            if info is not None:
                outs[name] = getattr(info, name)
            else:
                old = (previous or {}).get(name)
                outs[name] = old if isinstance(old, str) else ""
        return outs


def parse_id(id_: str) -> tuple[int, int]:
    """``"1000/8"`` to ``(1000, 8)``, with an error that shows the expected form."""
    parts = id_.split("/")
    if len(parts) == 2 and all(ascii_digits(p) and p == p.strip() and int(p) > 0 for p in parts):
        return int(parts[0]), int(parts[1])
    raise ResourceError(
        f"invalid ClientIntegration id {id_!r}: expected '<school_id>/<api_type_id>', e.g. '1000/8'"
    )


def _differs(old: Any, new: Any, default: Any = None) -> bool:
    if isinstance(new, Unknown) or isinstance(old, Unknown):
        return True
    old = default if old is None else old
    new = default if new is None else new
    if isinstance(old, float | int) and isinstance(new, float | int):
        return bool(float(old) != float(new))
    return bool(old != new)


# ---------------------------------------------------------------- provider


class ClientIntegrationProvider(ResourceProvider):
    """Activates and deactivates d6+ SAMS client integrations."""

    serialize_as_secret_always = False

    _config: dict[str, Any]
    _client: D6Client | None
    _reader: BulkReader | None

    def __init__(self) -> None:
        super().__init__()

    def __getstate__(self) -> dict[str, Any]:
        """Nothing of this process (config, client, credentials) goes into ``__provider``."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        del state

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the ``d6:*`` stack config; the client is built on first use."""
        configure_from_env()
        config: dict[str, Any] = {}
        for key in SETTING_KEYS:
            value = req.config.get(key.stack_key)
            if value is not None:
                config[key.stack_key] = value
        with _INIT_LOCK:
            self._config = config
            self._client = None
            self._reader = None

    # ------------------------------------------------------------- check, diff

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs: dict[str, Any] = {}
        failures: list[CheckFailure] = []
        for name in ID_FIELDS:
            inputs[name], reason = _check_id(name, news.get(name))
            if reason:
                failures.append(CheckFailure(name, reason))
        for name in FLAG_DEFAULTS:
            inputs[name], reason = _check_flag(name, news.get(name))
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
        want = Declared.of(props)
        info = self._set_state(want, want.active, "activate" if want.active else "deactivate")
        if info is None:
            info = self._details(want)
        return CreateResult(want.id, want.outputs(live_active=want.active, info=info))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = Declared.of(news)
        was_active = Declared.of(olds).active
        info = None
        if want.active != was_active:
            info = self._set_state(want, want.active, "activate" if want.active else "deactivate")
        return UpdateResult(want.outputs(live_active=want.active, info=info, previous=olds))

    # ------------------------------------------------------------ read, delete

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        school_id, api_type_id = parse_id(id_)
        try:
            info = self._get_reader().get(school_id, api_type_id)
        except D6Error as exc:
            raise self._explain(exc, f"read integration {id_}", school_id, api_type_id) from exc
        if info is None:
            log.info("integration %s is no longer authorised by the school; dropping it", id_)
            return ReadResult("", {})
        flag = props.get("deactivate_on_destroy")
        known = Declared(
            school_id,
            api_type_id,
            info.active,
            FLAG_DEFAULTS["deactivate_on_destroy"] if flag is None else bool(flag),
        )
        return ReadResult(
            id_,
            known.outputs(live_active=info.active, info=info),
            known.inputs(active=info.active),
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        state = Declared.of(props) if "school_id" in props else None
        if state is None:
            school_id, api_type_id = parse_id(id_)
            state = Declared(school_id, api_type_id, True, True)
        if not state.deactivate_on_destroy:
            log.info("%s: deactivate_on_destroy is false; forgetting it without an API call", id_)
            return
        if not state.active:
            return
        try:
            self._set_state(state, False, "deactivate")
        except ResourceError as exc:
            if isinstance(exc.__cause__, NotAuthorisedError):
                log.info("%s: the school no longer authorises it; nothing to deactivate", id_)
                return
            raise

    # ----------------------------------------------------------------- helpers

    def _get_client(self) -> D6Client:
        client: D6Client | None = getattr(self, "_client", None)
        if client is not None:
            return client
        with _INIT_LOCK:
            client = getattr(self, "_client", None)
            if client is None:
                client = D6Client(self._settings())
                self._client = client
            return client

    def _get_reader(self) -> BulkReader:
        """Reads for refresh: targeted at first, then one shared listing (see bulkread.py)."""
        reader: BulkReader | None = getattr(self, "_reader", None)
        if reader is not None:
            return reader
        client = self._get_client()
        with _INIT_LOCK:
            reader = getattr(self, "_reader", None)
            if reader is None:
                reader = BulkReader(client)
                self._reader = reader
            return reader

    def _settings(self) -> D6Settings:
        try:
            return resolve_settings(config=getattr(self, "_config", {}), env=os.environ)
        except MissingCredentialsError:
            raise
        except SettingsError as exc:
            raise SettingsError(f"{exc}. Fix it in stack config or the D6_* environment.") from None

    def _set_state(self, want: Declared, active: bool, action: str) -> ClientIntegrationInfo | None:
        """Change the state; returns d6's record when it sent one.

        When the answer is lost or garbled the change may still have happened, so the live
        state is read back: if it already is what we asked for, that is success.
        """
        client = self._get_client()
        doing = f"{action} {want.id}"
        try:
            info = client.set_state(want.school_id, want.api_type_id, active).integration
        except AMBIGUOUS_ERRORS as exc:
            try:
                live = client.get_integration(want.school_id, want.api_type_id)
            except D6Error:
                live = None
            if live is None or live.active != active:
                raise self._explain(exc, doing, want.school_id, want.api_type_id) from exc
            log.warning("%s: %s answered badly (%s) but d6 shows it done", want.id, action, exc)
            info = live
        except D6Error as exc:
            raise self._explain(exc, doing, want.school_id, want.api_type_id) from exc
        self._get_reader().note(want.school_id, want.api_type_id, active)
        return info

    def _details(self, want: Declared) -> ClientIntegrationInfo | None:
        """d6's descriptive fields after a change that did not return them (v1's 204).

        The change is done; failing here would leave an active integration out of state,
        so a failed read only costs the descriptive outputs until the next refresh.
        """
        try:
            return self._get_client().get_integration(want.school_id, want.api_type_id)
        except D6Error as exc:
            log.warning("%s: state set, but reading its details failed: %s", want.id, exc)
            return None

    def _explain(self, exc: D6Error, doing: str, school_id: int, api_type_id: int) -> D6Error:
        """An error a user can act on without reading code (never with the password)."""
        if isinstance(exc, NotAuthorisedError):
            return ResourceError(
                f"School {school_id} has not authorised your integration for API type "
                f"{api_type_id} in d6+ SAMS. Ask the school to authorise it in d6+, then run "
                "`pulumi up` again."
            )
        if isinstance(exc, BadCredentialsError):
            client = getattr(self, "_client", None)
            used = client.settings.describe_credentials() if client else "unknown sources"
            return ResourceError(
                f"d6 rejected the integrator credentials ({used}) while trying to {doing}. "
                "Set them with `pulumi config set d6:username ...` and "
                "`pulumi config set --secret d6:password ...`, or D6_USERNAME and D6_PASSWORD."
            )
        if isinstance(exc, SettingsError):
            return exc
        return ResourceError(f"Could not {doing}: {exc}")
