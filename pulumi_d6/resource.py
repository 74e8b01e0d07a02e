"""``ClientIntegration``: the resource users declare in their Pulumi programs."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .integration import DESCRIPTIVE_FIELDS, RESOURCE_MODULE, RESOURCE_NAME
from .provider import ClientIntegrationProvider

SECRET_OUTPUTS = ("admin_email_address", "telephone_number")
"""Personal information: the engine stores these outputs encrypted in state."""


class ClientIntegration(Resource, module=RESOURCE_MODULE, name=RESOURCE_NAME):
    """One d6+ SAMS client integration (a school and an API type) that you actively service.

    Creating it activates the integration in d6 (an integration already active is adopted),
    destroying it deactivates it, and changing ``active`` toggles it with one API call.
    Changing ``school_id`` or ``api_type_id`` replaces the resource. The ID is
    ``"<school_id>/<api_type_id>"``, e.g. ``"1000/8"``.

    Credentials come from stack config (``d6:username``, secret ``d6:password``) or the
    ``D6_USERNAME``/``D6_PASSWORD`` environment; they are never resource inputs.
    """

    school_id: pulumi.Output[int]
    """The d6 school id (v1 calls it ``school_login_id``)."""
    api_type_id: pulumi.Output[int]
    """The d6 API type id, e.g. 8 for "Admin+ API"."""
    active: pulumi.Output[bool]
    """The live state: whether you are actively servicing this school for this API type."""
    deactivate_on_destroy: pulumi.Output[bool]
    """Whether destroying the resource deactivates the integration (else it is only forgotten)."""
    school_name: pulumi.Output[str]
    """The school's name, as d6 reports it."""
    admin_email_address: pulumi.Output[str]
    """The school's administrative email address, as d6 reports it (a secret output)."""
    telephone_calling_code: pulumi.Output[str]
    """The school's telephone country calling code, e.g. "27"."""
    telephone_number: pulumi.Output[str]
    """The school's telephone number, as d6 reports it (a secret output)."""
    api_type: pulumi.Output[str]
    """The API type's name, e.g. "Admin+ API"."""

    def __init__(
        self,
        resource_name: str,
        school_id: pulumi.Input[int],
        api_type_id: pulumi.Input[int],
        active: pulumi.Input[bool] = True,
        deactivate_on_destroy: pulumi.Input[bool] = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare that the integration of ``school_id`` for ``api_type_id`` should be ``active``.

        :param resource_name: The Pulumi name of this resource (unique in the stack).
        :param school_id: The d6 school id, a whole number greater than 0.
        :param api_type_id: The d6 API type id, a whole number greater than 0 (e.g. 8).
        :param active: The desired state; ``False`` keeps the integration declared but inactive.
        :param deactivate_on_destroy: When ``False``, destroying only removes it from the stack.
        :param opts: Standard Pulumi resource options.
        """
        props: dict[str, Any] = {
            "school_id": school_id,
            "api_type_id": api_type_id,
            "active": active,
            "deactivate_on_destroy": deactivate_on_destroy,
        }
        props.update(dict.fromkeys(DESCRIPTIVE_FIELDS))
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        opts = pulumi.ResourceOptions.merge(opts, secret)
        super().__init__(ClientIntegrationProvider(), resource_name, props, opts)
