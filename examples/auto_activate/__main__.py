"""Every school that has authorised API type 8 gets an active integration.

Run `pulumi up` on a schedule: schools that authorise you are onboarded, and schools that revoke
their authorisation drop out of the listing, so their resources are removed (deleting an
integration the school no longer authorises is a success, not an error).
"""

import pulumi

from pulumi_d6 import ClientIntegration, get_client_integrations

API_TYPE_ID = 8

authorised = get_client_integrations(api_type_id=API_TYPE_ID)
integrations = [
    ClientIntegration(
        f"school-{info.school_id}-api-{API_TYPE_ID}",
        school_id=info.school_id,
        api_type_id=API_TYPE_ID,
    )
    for info in authorised
]

pulumi.export("schools", [info.school_id for info in authorised])
pulumi.export("count", len(integrations))
