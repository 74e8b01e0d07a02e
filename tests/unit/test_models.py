"""One normalised record whatever the API version sends."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pulumi_d6.models import ClientIntegrationInfo, Page

V1 = {
    "school_login_id": "1000",
    "school_name": "d6+ Primary School",
    "admin_email_address": "support@d6plus.co.za",
    "telephone_calling_code": "27",
    "telephone_number": "0123334444",
    "api_type_id": "8",
    "api_type": "Admin+ API",
    "activated_by_integrator": "No",
}
V2 = {**V1, "school_id": 1000, "api_type_id": 8, "activated_by_integrator": "Yes"}
del V2["school_login_id"]


def test_v1_and_v2_records_normalise_to_the_same_types() -> None:
    one = ClientIntegrationInfo.model_validate(V1)
    two = ClientIntegrationInfo.model_validate(V2)
    assert (one.school_id, one.api_type_id, one.active) == (1000, 8, False)
    assert (two.school_id, two.api_type_id, two.active) == (1000, 8, True)
    assert one.key == two.key == (1000, 8)
    assert one.school_name == "d6+ Primary School"


@pytest.mark.parametrize(
    ("raw", "expected"), [("Yes", True), ("no", False), (True, True), (0, False)]
)
def test_activated_by_integrator_variants(raw: object, expected: bool) -> None:
    assert (
        ClientIntegrationInfo.model_validate({**V2, "activated_by_integrator": raw}).active
        is expected
    )


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("school_id", "abc"),
        ("school_id", True),
        ("api_type_id", 8.5),
        ("activated_by_integrator", "maybe"),
    ],
)
def test_bad_values_are_rejected(field: str, raw: object) -> None:
    with pytest.raises(ValidationError):
        ClientIntegrationInfo.model_validate({**V2, field: raw})


def test_missing_descriptive_fields_default_to_empty_text() -> None:
    rec = ClientIntegrationInfo.model_validate(
        {"school_id": 5, "api_type_id": 9, "activated_by_integrator": "No", "school_name": None}
    )
    assert rec.school_name == ""
    assert rec.api_type == ""


def test_page_meta_without_next_cursor_is_the_last_page() -> None:
    page = Page.model_validate({"data": [V2], "meta": {"limit": 10, "max_allowed_limit": 50}})
    assert page.meta.next_cursor is None
    assert page.meta.max_allowed_limit == 50
    assert page.data[0].school_id == 1000
