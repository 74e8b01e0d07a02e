"""Opt-in logging for the provider process and the CLI: ``D6_LOG_LEVEL=DEBUG``.

The provider runs inside ``pulumi-resource-pulumi-python``, whose stderr the Pulumi CLI shows, so
a stderr handler on the ``pulumi_d6`` logger is all it takes. Request logs never carry credential
headers (see transport.redact_headers).
"""

from __future__ import annotations

import logging
import os
import sys

from .errors import shown

ENV_VAR = "D6_LOG_LEVEL"
_HANDLER_NAME = "pulumi_d6.env"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_WARNED = False


def configure_from_env() -> None:
    """Attach one stderr handler at the level ``D6_LOG_LEVEL`` names (idempotent)."""
    level_name = os.environ.get(ENV_VAR, "").strip().upper()
    if not level_name:
        return
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        global _WARNED  # said once per process, however often it is configured
        if not _WARNED:
            _WARNED = True
            sys.stderr.write(
                f"warning: {ENV_VAR}={shown(level_name)} is not a level "
                f"({', '.join(LEVELS)}); d6 logging stays off\n"
            )
        return
    logger = logging.getLogger("pulumi_d6")
    logger.setLevel(level)
    if any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
