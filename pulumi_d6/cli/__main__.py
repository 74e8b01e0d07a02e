"""``python -m pulumi_d6.cli``: the same as the ``pulumi-d6`` command."""

from . import main

main()
