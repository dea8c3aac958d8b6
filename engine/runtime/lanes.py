"""Lane names in diagrams (`agency.role`) and what they mean."""
from __future__ import annotations

AGENCY_CODES = ("samr", "police", "procuratorate", "court", "office")
LANE_ROLES = ("handler", "head", "liaison", "supervisor")


def parse_lane(lane: str | None) -> tuple[str, str]:
    """Split a lane name into (agency code, role), or raise ValueError saying what is wrong."""
    if not lane:
        raise ValueError("user task is not in a named lane ('agency.role')")
    agency, _, role = lane.partition(".")
    if agency not in AGENCY_CODES or role not in LANE_ROLES:
        raise ValueError(
            f"lane '{lane}' is not 'agency.role' with agency in {AGENCY_CODES} and role in {LANE_ROLES}"
        )
    return agency, role
