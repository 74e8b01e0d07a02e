"""The typed d6 Integrate API client (no Pulumi imports).

Everything the provider, the lookup and the CLI do reaches d6 through :class:`D6Client`. It lists
client integrations (following every page), reads one, and sets an integration's state, in v2 or
v1 mode. The layers beneath it: ``dialects.py`` (what each API version's endpoints mean),
``transport.py`` (sending, retries, credentials, bodies) and ``errors.py`` (status to exception).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Literal

import requests
from pydantic import SecretStr
from typing_extensions import TypedDict, Unpack

from .dialects import Dialect, Listing, V1Api, V2Api
from .models import ClientIntegrationInfo, StateChange, parse_id
from .settings import D6Settings, resolve_settings
from .transport import Transport


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`D6Client.from_env`: the settings' Python names.

    Each one that is given (and not None or empty) wins over stack config and ``D6_*``.
    Numbers and flags may also be given as text, as stack config and the environment give them.
    """

    username: str
    password: str | SecretStr
    base_url: str
    api_version: Literal["v1", "v2", "1", "2"]
    timeout_seconds: float | str
    max_retries: int | str
    requests_per_second: float | str | None
    max_deactivations: int | Literal["unlimited"] | None
    allow_insecure_http: bool | str


class D6Client:
    """A thread-safe client for the d6 Integrate client-integration endpoints.

    Build it from :class:`~pulumi_d6.settings.D6Settings`, or with :meth:`from_env` /
    :meth:`from_settings`. One instance can be shared by many threads.
    """

    def __init__(self, settings: D6Settings, *, session: requests.Session | None = None) -> None:
        if not isinstance(settings, D6Settings):
            raise TypeError(
                f"D6Client takes D6Settings, got {type(settings).__name__}: build one with "
                "D6Client.from_settings(...) or D6Client.from_env()"
            )
        self.settings = settings
        self._transport = Transport(settings, session=session)
        dialect = V2Api if settings.api_version == "v2" else V1Api
        self._api: Dialect = dialect(self._transport)

    @classmethod
    def from_settings(
        cls,
        explicit: Mapping[str, Any] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> D6Client:
        """Resolve settings (explicit, stack config, environment, defaults) and build a client."""
        return cls(resolve_settings(explicit, config=config, env=env))

    @classmethod
    def from_env(cls, **explicit: Unpack[ClientOptions]) -> D6Client:
        """A client from keyword arguments and the ``D6_*`` environment.

        The keywords are typed (:class:`ClientOptions`), so a misspelt one such as
        ``usernme="u"`` is a type error before it is a run-time one.
        """
        return cls.from_settings(explicit)

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"D6Client(base_url={s.base_url!r}, api_version={s.api_version!r}, "
            f"username={s.username!r})"
        )

    def __enter__(self) -> D6Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    # ---------------------------------------------------------------- listing

    def iter_integrations(
        self,
        school_id: int | None = None,
        api_type_id: int | None = None,
        *,
        page_size: int | None = None,
        reverse_order: bool = False,
    ) -> Iterator[ClientIntegrationInfo]:
        """Every authorised integration, optionally filtered, across all pages, each once.

        v2 asks for ``max_allowed_limit`` records per page after the first (unless
        ``page_size`` is given), so a long listing takes as few requests as the server allows.
        """
        school_id = None if school_id is None else parse_id(school_id, "school_id")
        api_type_id = None if api_type_id is None else parse_id(api_type_id, "api_type_id")
        query = Listing(school_id, api_type_id, page_size, reverse_order)
        seen: set[tuple[int, int]] = set()
        for record in self._api.records(query):
            if school_id is not None and record.school_id != school_id:
                continue
            if api_type_id is not None and record.api_type_id != api_type_id:
                continue
            if record.key in seen:  # listed again (pages that shifted while being read)
                continue
            seen.add(record.key)
            yield record

    def list_integrations(
        self, school_id: int | None = None, api_type_id: int | None = None
    ) -> list[ClientIntegrationInfo]:
        """:meth:`iter_integrations` as a list."""
        return list(self.iter_integrations(school_id, api_type_id))

    def get_integration(self, school_id: int, api_type_id: int) -> ClientIntegrationInfo | None:
        """The integration for (school, API type), or None when the school has not authorised it."""
        for record in self.iter_integrations(school_id, api_type_id):
            return record
        return None

    # ----------------------------------------------------------- state change

    def set_state(self, school_id: int, api_type_id: int, active: bool) -> StateChange:
        """Activate (``active=True``) or deactivate one integration.

        "Integration already activated/deactivated" is not an error: it comes back as
        ``changed=False``. A school that has not authorised you raises
        :class:`~pulumi_d6.errors.NotAuthorisedError`. An id that is not a whole number
        greater than 0 (``-1``, ``True``, ``"1000/../1001"``) raises
        :class:`~pulumi_d6.errors.InvalidValueError` before anything is sent.
        """
        school = parse_id(school_id, "school_id")
        return self._api.set_state(school, parse_id(api_type_id, "api_type_id"), active)

    def activate(self, school_id: int, api_type_id: int) -> StateChange:
        return self.set_state(school_id, api_type_id, True)

    def deactivate(self, school_id: int, api_type_id: int) -> StateChange:
        return self.set_state(school_id, api_type_id, False)


__all__ = ["D6Client"]
