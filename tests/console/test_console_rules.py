"""The console's plain rules (no server)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.console import domain
from services.console.session import SessionCodec
from slrt.auth.principal import Role

pytestmark = pytest.mark.unit
KEY = "c2xydC1lMmUtY29uc29sZS1zZXNzaW9uLWtleS0wMDA="


def test_screens_follow_the_roles_each_once() -> None:
    assert domain.screens([Role.FRONT_OFFICE]) == [
        ("register", "/front/register"),
        ("info_request", "/front/information"),
    ]
    both = domain.screens([Role.MANAGER, Role.ADMINISTRATOR])
    assert [p for _, p in both] == ["/queues/manager", "/admin/programs", "/admin/staff"]
    assert domain.screens([Role.VIEWER]) == []


def test_queue_puts_overdue_first_then_the_soonest_due() -> None:
    items: list[dict[str, Any]] = [
        {"complaint_id": "a", "step_due": "2026-12-10", "flags": {}, "submitted_at": "1"},
        {"complaint_id": "b", "step_due": None, "flags": {}, "submitted_at": "0"},
        {"complaint_id": "c", "step_due": "2026-12-03", "flags": {}, "submitted_at": "2"},
        {
            "complaint_id": "d",
            "step_due": "2026-12-20",
            "flags": {"overdue": True},
            "submitted_at": "3",
        },
        {"complaint_id": "e", "step_due": "2026-11-29", "flags": {}, "submitted_at": "4"},
    ]
    ordered = domain.queue_order(items, date(2026, 11, 30))
    assert [i["complaint_id"] for i in ordered] == ["e", "d", "c", "a", "b"]
    assert domain.is_overdue(items[4], date(2026, 11, 30))
    assert not domain.is_overdue(items[0], date(2026, 11, 30))


def test_action_forms_are_the_steps_for_the_role_and_withdraw_while_open() -> None:
    assert domain.action_forms("back_office", "open", [Role.BACK_OFFICE]) == [
        "back-office-action",
        "withdraw",
    ]
    assert domain.action_forms("back_office", "open", [Role.MANAGER]) == ["withdraw"]
    assert domain.action_forms("manager_approval", "open", [Role.MANAGER]) == [
        "manager-decision",
        "withdraw",
    ]
    assert domain.action_forms("feedback", "open", [Role.FACILITATOR]) == ["feedback", "withdraw"]
    assert domain.action_forms("closed", "closed", [Role.BACK_OFFICE]) == []
    assert domain.action_forms("referred", "open", [Role.PROGRAM_MANAGER]) == []


def test_a_walk_in_form_becomes_intakes_submission() -> None:
    body, errors = domain.submission(
        {
            "village_code": "32.04.05.2001",
            "category": "implementation",
            "program_code": "PKH",
            "name": " Siti Aminah ",
            "nik": "3204054107850003",
            "phone": "0812-3456 7890",
            "sex": "female",
            "description": "Bantuan belum diterima.",
        }
    )
    assert errors == []
    assert body == {
        "channel": "puskesos_walk_in",
        "village_code": "3204052001",
        "category": "implementation",
        "program_code": "PKH",
        "description": "Bantuan belum diterima.",
        "complainant": {
            "name": "Siti Aminah",
            "nik": "3204054107850003",
            "phone": "081234567890",
            "sex": "female",
        },
    }


def test_a_walk_in_form_names_what_it_lacks() -> None:
    _, errors = domain.submission({"category": "membership", "anonymous": "on", "nik": "12"})
    assert {(e.field, e.rule) for e in errors} == {
        ("village_code", "required"),
        ("anonymous", "anonymous_only_for_implementation"),
        ("description", "required"),
    }
    _, errors = domain.submission(
        {
            "category": "implementation",
            "village_code": "3204052001",
            "description": "x",
            "nik": "12",
        }
    )
    assert {(e.field, e.rule) for e in errors} == {
        ("program_code", "required_for_implementation"),
        ("complainant.name", "required"),
        ("complainant.nik", "nik_format"),
    }


def test_an_anonymous_report_carries_no_complainant() -> None:
    body, errors = domain.submission(
        {
            "village_code": "3204052001",
            "category": "implementation",
            "program_code": "PKH",
            "anonymous": "on",
            "name": "ignored",
            "description": "Dana dipotong.",
        }
    )
    assert errors == []
    assert body["anonymous"] is True
    assert "complainant" not in body


def test_problem_errors_go_beside_their_fields_and_the_rest_on_top() -> None:
    problem = {
        "status": 422,
        "errors": [
            {"field": "complainant.nik", "rule": "nik_valid", "message": "not a valid NIK"},
            {"field": "answer", "rule": "required"},
        ],
    }
    assert domain.field_errors(problem) == {
        "complainant.nik": "not a valid NIK",
        "answer": "required",
    }
    wrong_step = {"status": 409, "detail": "not at this step", "current_step": "feedback"}
    assert domain.field_errors(wrong_step) == {"": "not at this step (feedback)"}
    assert domain.field_errors(None) == {}


def test_the_route_is_explained_from_the_catalog() -> None:
    catalog = {"PKH": {"code": "PKH", "owner_agency": "Kemensos", "channel": "direct"}}
    assert domain.route_hint("membership", None, catalog).key == "route_membership"
    hint = domain.route_hint("implementation", "PKH", catalog)
    assert (hint.key, hint.agency, hint.channel) == ("route_program", "Kemensos", "direct")
    assert domain.route_hint("implementation", "XYZ", catalog).key == "route_unknown_program"
    assert domain.route_hint("program_need", None, catalog).key == "route_no_program"
    assert domain.route_hint("information", None, catalog).key == "route_information"


def test_the_session_cookie_is_sealed_and_expires() -> None:
    codec = SessionCodec([KEY])
    sealed = codec.seal({"token": "abc"})
    assert "abc" not in sealed
    assert codec.open(sealed, 60) == {"token": "abc"}
    assert codec.open(sealed[:-2] + "xx", 60) is None
    assert codec.open(None, 60) is None
    other = SessionCodec(["RTBm9Z2Yv_WS4tuXAgDyeEa2vf34_nWeFqccg6bXTpI="])
    assert other.open(sealed, 60) is None
    rotated = SessionCodec(["RTBm9Z2Yv_WS4tuXAgDyeEa2vf34_nWeFqccg6bXTpI=", KEY])
    assert rotated.open(sealed, 60) == {"token": "abc"}


def test_a_search_excerpt_keeps_only_its_hit_marks() -> None:
    from services.console.api.pages import highlight

    marked = highlight("<b>PKH</b> untuk <script>alert(1)</script> keluarga")
    assert str(marked) == ("<mark>PKH</mark> untuk &lt;script&gt;alert(1)&lt;/script&gt; keluarga")


def test_a_directory_person_is_who_the_registry_says() -> None:
    from datetime import UTC, datetime, timedelta

    from services.console.clients import Answer
    from services.console.people import DirectoryUnavailable, principal_from_me
    from slrt.auth.directory import NotInDirectory
    from slrt.auth.tokens import InvalidToken

    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    me = {
        "person_id": "5b0e6c1e-8d7a-4c7e-9f51-2f1a7f0b6a11",
        "subject": "demo-facilitator",
        "display_name": "Ani Lestari",
        "roles": ["facilitator"],
        "areas": ["3204052001", "3204112001"],
        "programs": [],
        "active_from": (now - timedelta(days=3)).isoformat(),
        "active_until": None,
        "version": 2,
        "updated_at": now.isoformat(),
        "villages": ["3204052001"],
        "supervisees": [],
    }
    found = principal_from_me(Answer(200, me), "demo-facilitator", now)
    assert found.subject == "demo-facilitator"
    assert found.roles == {Role.FACILITATOR}
    assert found.areas == {"3204052001", "3204112001"}
    assert found.area == "3204"
    # Unknown (404 of a registry in claims mode, 403 of one in directory mode), left, or
    # another subject's record: refused; the registry away: unavailable; 401: a bad token.
    for status in (403, 404):
        with pytest.raises(NotInDirectory):
            principal_from_me(Answer(status, problem={"status": status}), "x", now)
    left = {**me, "active_until": (now - timedelta(hours=1)).isoformat()}
    with pytest.raises(NotInDirectory):
        principal_from_me(Answer(200, left), "demo-facilitator", now)
    with pytest.raises(NotInDirectory):
        principal_from_me(Answer(200, me), "demo-other", now)
    for status in (503, 500):
        with pytest.raises(DirectoryUnavailable):
            principal_from_me(Answer(status, problem={"status": status}), "x", now)
    with pytest.raises(DirectoryUnavailable):
        principal_from_me(Answer(200, {"roles": "?"}), "x", now)
    with pytest.raises(InvalidToken):
        principal_from_me(Answer(401, problem={"status": 401}), "x", now)
