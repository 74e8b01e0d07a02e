"""Connection settings and where each one came from.

Resolution order (README, "Configuration"): explicit argument, then stack config ``d6:<key>``,
then the ``D6_*`` environment variable, then the default. Stack config values arrive as strings,
so every number is parsed here. The settings remember the source of each value so that an error
can say which key or variable to fix without ever repeating the password.
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import json
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from .errors import MissingCredentialsError, SettingsError, excerpt, shown

DEFAULT_BASE_URL = "https://integrate.d6plus.co.za/api"


@dataclass(frozen=True)
class SettingKey:
    """One setting: its Python name, stack-config key (without ``d6:``) and env variable."""

    field: str
    config_key: str
    env_var: str

    @property
    def stack_key(self) -> str:
        return f"d6:{self.config_key}"


SETTING_KEYS: tuple[SettingKey, ...] = (
    SettingKey("username", "username", "D6_USERNAME"),
    SettingKey("password", "password", "D6_PASSWORD"),
    SettingKey("base_url", "baseUrl", "D6_BASE_URL"),
    SettingKey("api_version", "apiVersion", "D6_API_VERSION"),
    SettingKey("timeout_seconds", "timeoutSeconds", "D6_TIMEOUT_SECONDS"),
    SettingKey("max_retries", "maxRetries", "D6_MAX_RETRIES"),
    SettingKey("requests_per_second", "requestsPerSecond", "D6_REQUESTS_PER_SECOND"),
    SettingKey("max_deactivations", "maxDeactivations", "D6_MAX_DEACTIVATIONS"),
    SettingKey("allow_insecure_http", "allowInsecureHttp", "D6_ALLOW_INSECURE_HTTP"),
)
DEFAULT_MAX_DEACTIVATIONS = 10
_BY_FIELD = {k.field: k for k in SETTING_KEYS}
MAX_DEACTIVATIONS_KEY = _BY_FIELD["max_deactivations"]
"""The budget's stack key and variable: named by the budget's messages and ``check-preview``."""


def is_loopback_host(host: str) -> bool:
    """True for localhost and any loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def without_userinfo(url: str, mark: str = "") -> str:
    """``url`` with any ``user:password@`` replaced by ``mark`` (works on URLs urlsplit refuses)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return mark + url.rpartition("@")[2] if "@" in url else url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = mark + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def redact_url(value: str) -> str:
    """The URL fit for a message: any ``user:password@`` replaced by ``***@``, bounded."""
    return shown(without_userinfo(value.strip(), "***@"), 80)


def header_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an HTTP header value, in words that never show it."""
    if value != value.lstrip():
        return "starts with white space"
    if value.endswith(("\n", "\r")):
        return "ends with a newline: was it pasted with one?"
    if value != value.rstrip():
        return "ends with white space: was it pasted with some?"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "contains a control character (such as a newline or tab)"
    if any(ord(c) > 0xFF for c in value):
        return (
            "contains a character outside Latin-1 (such as € or an emoji), which an HTTP header "
            "cannot carry"
        )
    return None


def parse_max_deactivations(value: Any) -> int | None:
    """``d6:maxDeactivations``: a whole number >= 0, or ``unlimited`` (None)."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text == "unlimited":
        return None
    if text is None or not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise ValueError("must be a whole number >= 0, or unlimited")
    return int(text)


def normalise_base_url(value: str, *, allow_insecure_http: bool = False) -> str:
    """Validate the API root and strip a trailing slash; http is allowed for loopback only,
    unless ``allow_insecure_http`` (an emulator in a CI service container, reached by name)."""
    raw = value.strip()
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # an invalid port or IPv6 literal
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"must be an absolute http(s) URL such as {DEFAULT_BASE_URL}, got {redact_url(raw)}"
        )
    if "@" in parts.netloc:
        raise ValueError(
            f"must not contain a username or password (got {redact_url(raw)}); use "
            "d6:username and d6:password (or D6_USERNAME and D6_PASSWORD)"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"must not contain a query or fragment, got {redact_url(raw)}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        raise ValueError(
            f"plain http:// is only allowed for a loopback host such as the local emulator; "
            f"use https:// for {excerpt(parts.hostname, 60)} so the credentials are not sent in "
            "clear text (for an emulator in a CI service container, set "
            "d6:allowInsecureHttp=true or D6_ALLOW_INSECURE_HTTP=true)"
        )
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1].lower()
    if last in ("v1", "v2", "v3"):
        raise ValueError(
            f"must be the API root without the version segment (for example "
            f"{DEFAULT_BASE_URL}), got {redact_url(raw)}; the version comes from d6:apiVersion"
        )
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class D6Settings(BaseModel):
    """Validated connection settings. ``repr()`` never shows the password."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        frozen=True, hide_input_in_errors=True, extra="forbid"
    )

    username: str = Field(min_length=1)
    password: SecretStr
    allow_insecure_http: bool = False
    """Accept plain http:// to a non-loopback host (before base_url: its validator reads it)."""
    base_url: str = DEFAULT_BASE_URL
    api_version: Literal["v1", "v2"] = "v2"
    timeout_seconds: float = Field(default=30.0, gt=0, le=600, allow_inf_nan=False)
    max_retries: int = Field(default=4, ge=0, le=20)
    requests_per_second: float | None = Field(default=None, ge=0.01, le=10_000, allow_inf_nan=False)
    """At least one request per 100 s: slower waits are not a throttle (1e-10 overflowed sleep)."""
    max_deactivations: int | None = Field(default=DEFAULT_MAX_DEACTIVATIONS, ge=0)
    """How many deactivations one provider process may send; None is ``unlimited``."""
    sources: dict[str, str] = Field(default_factory=dict, repr=False)

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret:
            raise ValueError("must not be empty")
        problem = header_problem(secret)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        problem = header_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str, info: ValidationInfo) -> str:
        return normalise_base_url(
            value, allow_insecure_http=bool(info.data.get("allow_insecure_http"))
        )

    @field_validator("api_version", mode="before")
    @classmethod
    def _api_version(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            return f"v{lowered}" if lowered.isdigit() else lowered
        return value

    @field_validator("max_deactivations", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> Any:
        return (
            parse_max_deactivations(value)
            if isinstance(value, str | bool) or value is None
            else value
        )

    @field_validator("max_retries", "timeout_seconds", "requests_per_second", mode="before")
    @classmethod
    def _number(cls, value: Any, info: ValidationInfo) -> Any:
        """Text from config is trimmed; a boolean is not a number, though Python says it is."""
        if isinstance(value, bool):
            kind = "a whole number" if info.field_name == "max_retries" else "a number"
            raise ValueError(f"must be {kind}, not a boolean")
        if isinstance(value, str):
            return value.strip()
        return value

    @property
    def connect_timeout_seconds(self) -> float:
        """Connecting should be quick; a slow answer is what the read timeout is for."""
        return min(10.0, self.timeout_seconds)

    def scrub(self, text: str) -> str:
        """``text`` with the password replaced by ``***``, raw, JSON-quoted, URL-encoded or
        base64-encoded.

        A safety net for text that did not come from us (a transport library's error, a body
        the server answered with): the password should never be in it, and if it ever is, it
        must not travel on.
        """
        secret = self.password.get_secret_value()
        if len(secret) < 3:  # too short to tell apart from ordinary text
            return text
        forms = {
            secret,
            json.dumps(secret)[1:-1],  # as a JSON body would quote it
            json.dumps(secret, ensure_ascii=False)[1:-1],
            quote(secret, safe=""),
            quote_plus(secret),
            base64.b64encode(secret.encode("utf-8", "replace")).decode(),
            base64.b64encode(secret.encode("latin-1", "replace")).decode(),
        }
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text

    def source_of(self, field: str) -> str:
        return self.sources.get(field, field)

    def describe_credentials(self) -> str:
        """E.g. "username from d6:username, password from D6_PASSWORD" (never the values)."""
        user, password = self.source_of("username"), self.source_of("password")
        return f"username from {user}, password from {password}"

    def how_to_correct_credentials(self) -> str:
        """Where to put right credentials d6 rejected: at the source each one came from."""
        ways = []
        for key in (_BY_FIELD["username"], _BY_FIELD["password"]):
            source = self.source_of(key.field)
            if source == key.stack_key:
                ways.append(_set_command(key))
            elif source == key.env_var:
                ways.append(f"the {key.env_var} environment variable")
            else:
                ways.append(source)
        return f"Correct them where they are set: {' and '.join(ways)}."


def stack_config_of(get: Callable[[str], Any]) -> dict[str, Any]:
    """The ``d6:*`` keys present in a stack config, read through ``get(key)`` (the provider's
    ``ConfigureRequest.config.get``, or ``pulumi.Config("d6")`` with the prefix dropped)."""
    config: dict[str, Any] = {}
    for key in SETTING_KEYS:
        value = get(key.stack_key)
        if value is not None:
            config[key.stack_key] = value
    return config


def stack_file_settings(config: Mapping[str, Any], where: str = "the stack file") -> dict[str, str]:
    """The ``d6:*`` settings of a stack file's ``config:`` mapping, as the engine would pass them
    (text). A ``secure:`` value (a mapping) is encrypted for Pulumi, not for us: it is left out,
    so its environment variable is used instead."""
    known = [key.stack_key for key in SETTING_KEYS]
    for name in config:
        if str(name).startswith("d6:") and name not in known:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.8)
            if close:  # a misspelt key would silently leave its setting at the default
                raise SettingsError(
                    f"{where}: unknown setting {shown(name)}: did you mean {close[0]}?"
                )
    found: dict[str, str] = {}
    for key in SETTING_KEYS:
        value = config.get(key.stack_key)
        if value is None or isinstance(value, Mapping):
            continue
        if isinstance(value, list):
            raise SettingsError(f"{where}: {key.stack_key} must be a single value, not a list")
        found[key.stack_key] = str(value).lower() if isinstance(value, bool) else str(value)
    return found


def encrypted_settings(config: Mapping[str, Any]) -> frozenset[str]:
    """The ``d6:*`` keys a stack file holds encrypted (``secure:``): only the Pulumi CLI can read
    them, so a tool reading the file must say so when one of them is missing."""
    return frozenset(
        key.stack_key for key in SETTING_KEYS if isinstance(config.get(key.stack_key), Mapping)
    )


def stack_config_for(username: str, password: str, base_url: str, **extra: str) -> dict[str, str]:
    """``d6:*`` stack config (text, as the engine sends it) for a d6 or an emulator; ``extra``
    adds or replaces keys (``**{"d6:maxRetries": "2"}``)."""
    return {"d6:username": username, "d6:password": password, "d6:baseUrl": base_url, **extra}


def _lookup_config(config: Mapping[str, Any], key: SettingKey) -> Any:
    for candidate in (key.stack_key, key.config_key):
        if candidate in config:
            return config[candidate]
    return None


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() == "")


def resolve_settings(
    explicit: Mapping[str, Any] | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    explicit_names: Mapping[str, str] | None = None,
    encrypted: Collection[str] = (),
) -> D6Settings:
    """Resolve settings from an explicit mapping, stack config and the environment.

    ``explicit`` uses the Python field names (``base_url``); ``config`` uses stack-config keys
    (``d6:baseUrl``, the ``d6:`` prefix optional); ``env`` defaults to ``os.environ``. Empty
    strings count as unset, so an unset CI secret falls through to the next source.
    ``explicit_names`` says what to call an explicit value in messages (the CLI: ``--password``).
    ``encrypted``: stack keys a stack file holds as ``secure:`` (:func:`encrypted_settings`).
    """
    explicit = explicit or {}
    config = config or {}
    env = os.environ if env is None else env
    names = explicit_names or {}
    unknown = set(explicit) - set(_BY_FIELD)
    if unknown:
        raise SettingsError(f"unknown setting(s): {shown(', '.join(sorted(map(str, unknown))))}")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in SETTING_KEYS:
        candidates = (
            (explicit.get(key.field), names.get(key.field, f"argument {key.field}")),
            (_lookup_config(config, key), key.stack_key),
            (env.get(key.env_var), key.env_var),
        )
        for value, source in candidates:
            if _present(value):
                values[key.field] = value
                sources[key.field] = source
                break
        else:
            sources[key.field] = "default"

    missing = [f for f in ("username", "password") if f not in values]
    if missing:
        raise MissingCredentialsError(_missing_message(missing, names, encrypted))

    try:
        return D6Settings(**values, sources=sources)
    except ValidationError as exc:
        message = _validation_message(exc, values, sources)
    raise SettingsError(message)  # outside the except: no pydantic error in the chain


def _set_command(key: SettingKey) -> str:
    """The command that sets a credential in stack config. The password is left off the
    command line (Pulumi prompts for it), so it never lands in shell history."""
    if key.field == "password":
        return f"`pulumi config set --secret {key.stack_key}` (it prompts for the password)"
    return f"`pulumi config set {key.stack_key} <name>`"


def _missing_message(
    missing: list[str], names: Mapping[str, str], encrypted: Collection[str] = ()
) -> str:
    """One wording for missing credentials: only what is missing, every place it can be set.
    One the stack file holds encrypted is there already: only its variable (or flag) can help."""
    keys = [_BY_FIELD[field] for field in missing]
    sealed = [key for key in keys if key.stack_key in encrypted]
    if sealed:
        key = sealed[0]
        flag = f", or pass {names[key.field]}" if key.field in names else ""
        return (
            f"d6 {key.field}: {key.stack_key} in the stack file is encrypted (secure:), which only "
            f"the Pulumi CLI can decrypt; set {key.env_var} in the environment{flag}."
        )
    commands = " and ".join(map(_set_command, keys))
    message = (
        f"d6 {' and '.join(missing)} not set. Set {'them' if len(keys) > 1 else 'it'} in stack "
        f"config ({commands}) or in the environment ({' and '.join(k.env_var for k in keys)})"
    )
    flags = [names[k.field] for k in keys if k.field in names]
    return message + (f", or pass {' and '.join(flags)}." if flags else ".")


_NOT_SHOWN = frozenset({"username", "password", "base_url"})  # shown in their own words, or never


def _validation_message(
    exc: ValidationError, values: Mapping[str, Any], sources: Mapping[str, str]
) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "settings"
        source = sources.get(field, field)
        reason = str(error["msg"]).removeprefix("Value error, ")
        if field in _NOT_SHOWN:
            problems.append(f"{source} {reason}")
        else:
            problems.append(f"{source} = {shown(values.get(field))}: {reason}")
    return "invalid d6 settings: " + "; ".join(problems)


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_DEACTIVATIONS",
    "SETTING_KEYS",
    "D6Settings",
    "SettingKey",
    "header_problem",
    "is_loopback_host",
    "normalise_base_url",
    "parse_max_deactivations",
    "redact_url",
    "resolve_settings",
    "stack_config_for",
    "stack_config_of",
    "stack_file_settings",
    "without_userinfo",
]
