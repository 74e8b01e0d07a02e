"""``pulumi-d6 emulator`` as a subprocess, as a user runs it: start, read the banner, stop.

The one place that knows how to start the emulator CLI and find its base URL (its first line is
``BANNER`` + URL). Output is drained by threads, so a chatty access log can never block it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import IO

from ..emulator.admin import EmulatorAdmin
from ..emulator.cli import BANNER
from ..emulator.credentials import PASSWORD_VARIABLE, USERNAME_VARIABLE
from ..settings import stack_config_for

DEFAULT_COMMAND = (sys.executable, "-m", "pulumi_d6.cli", "emulator")


class EmulatorStartError(RuntimeError):
    """The emulator exited, or printed something else, instead of its banner."""


class EmulatorProcess:
    """``pulumi-d6 emulator ARGS`` in its own process; a context manager.

    ``command`` is what to run (default: this interpreter's ``pulumi_d6.cli emulator``; a
    wheel test passes its virtualenv's ``pulumi-d6 emulator``). Unless ``args`` say otherwise the
    emulator listens on a free port with its state in memory. Without ``env`` it inherits this
    process's environment but ``D6_USERNAME``/``D6_PASSWORD`` (which it would accept), so it
    takes the demo credentials ``stack_config()`` assumes whatever the shell exports.
    """

    def __init__(
        self,
        *args: str,
        command: Sequence[str] = DEFAULT_COMMAND,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        full = [*command]
        if "--port" not in args:
            full += ["--port", "0"]
        if "--db" not in args:
            full += ["--db", ":memory:"]
        self.command: list[str] = [*full, *args]
        self.proc: subprocess.Popen[str] = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env) if env is not None else without_credentials(os.environ),
            cwd=cwd,
        )
        self._out: list[str] = []
        self._err: list[str] = []
        assert self.proc.stdout is not None
        self.first_line: str = self.proc.stdout.readline()
        self._drains = [
            threading.Thread(target=drain, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=drain, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for thread in self._drains:
            thread.start()
        if not self.first_line.startswith(BANNER):
            self.stop()
            said = " ".join((self.first_line + self.errors).split()).removeprefix("error: ")
            raise EmulatorStartError(f"the d6 emulator did not start: {said}")
        self.base_url: str = self.first_line.strip().removeprefix(BANNER)
        self.url: str = self.base_url.removesuffix("/api")
        self.admin_url: str = f"{self.url}/_emulator"
        self.admin: EmulatorAdmin = EmulatorAdmin(self.admin_url)

    @property
    def output(self) -> str:
        """Everything it printed so far (stdout, then stderr), the banner included."""
        return self.first_line + "".join(self._out) + "".join(self._err)

    @property
    def errors(self) -> str:
        return "".join(self._err)

    def stack_config(
        self,
        username: str = "demo",
        password: str = "demo",  # noqa: S107 - the emulator's documented demo credential
    ) -> dict[str, str]:
        """``d6:*`` stack config pointing at this emulator."""
        return stack_config_for(username, password, self.base_url)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        """Stop it (Ctrl-C by default, as a user would) and return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for thread in self._drains:
            thread.join(timeout=5)
        if hasattr(self, "admin"):
            self.admin.close()
        return self.proc.returncode

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def without_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in (USERNAME_VARIABLE, PASSWORD_VARIABLE)}


def drain(stream: IO[str] | None, sink: list[str]) -> None:
    """Keep reading a child's output into ``sink``, so a full pipe never blocks the child."""
    if stream is not None:
        for line in stream:
            sink.append(line)
