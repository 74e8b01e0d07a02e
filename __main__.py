"""The root Pulumi program: manages the integrations declared in this stack's config.

See README "The root program" for the config keys; the logic lives in ``pulumi_d6.program``.
"""

from pulumi_d6.program import main

main()
