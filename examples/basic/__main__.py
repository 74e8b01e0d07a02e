"""Two schools declared in code: one serviced for Admin+ (8), one for both 8 and Curriculum+ (9)."""

import pulumi

from pulumi_d6 import ClientIntegration

greenfield = ClientIntegration("greenfield-admin", school_id=1000, api_type_id=8)

riverside_admin = ClientIntegration("riverside-admin", school_id=1001, api_type_id=8)
riverside_curriculum = ClientIntegration(
    "riverside-curriculum",
    school_id=1001,
    api_type_id=9,
    # Keep servicing it in d6 even if this stack is destroyed.
    deactivate_on_destroy=False,
)

pulumi.export("greenfield", greenfield.school_name)
pulumi.export(
    "activeIds",
    pulumi.Output.all(greenfield.id, riverside_admin.id, riverside_curriculum.id),
)
