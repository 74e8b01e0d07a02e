"""How one emulated d6 behaves: credentials, paging, rate limit, latency, versions served."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EmulatorConfig:
    """Defaults are the d6 docs' example values; ``latency_ms`` 0 answers at loopback speed."""

    username: str = "demo"
    password: str = field(default="demo", repr=False)
    page_size: int = 10
    max_page_size: int = 50
    rate_limit: float | None = None
    latency_ms: float = 0.0
    v2_state_methods: frozenset[str] = frozenset({"PATCH", "POST"})
    api_versions: frozenset[str] = frozenset({"v1", "v2"})

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError("page_size must be between 1 and max_page_size")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be > 0")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
