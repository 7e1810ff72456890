"""The console's plain rules: which screens a role gets, the order of a queue, which action
forms a complaint shows, how a walk-in form becomes a submission, where a complaint will be
routed (explained to the front office), and how an API problem becomes errors beside fields.
No I/O here (unit tests: tests/console/test_console_rules.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from slrt.auth.principal import Role

Screen = tuple[str, str]
"""(text key, path)."""

SCREENS: dict[Role, list[Screen]] = {
    Role.FRONT_OFFICE: [("register", "/front/register"), ("info_request", "/front/information")],
    Role.SUPERVISOR: [("queue_supervisor", "/queues/supervisor")],
    Role.BACK_OFFICE: [("queue_back_office", "/queues/back_office")],
    Role.MANAGER: [("queue_manager", "/queues/manager"), ("catalog", "/admin/programs")],
    Role.FACILITATOR: [("my_tasks", "/tasks"), ("my_villages", "/villages")],
    Role.PROGRAM_MANAGER: [("referrals", "/referrals")],
    Role.ADMINISTRATOR: [("catalog", "/admin/programs"), ("staff", "/admin/staff")],
}

QUEUES: dict[str, tuple[str, Role]] = {
    "supervisor": ("supervisor_review", Role.SUPERVISOR),
    "back_office": ("back_office", Role.BACK_OFFICE),
    "manager": ("manager_approval", Role.MANAGER),
}
"""Queue name → (the complaint step it lists, the role that works it)."""


def screens(roles: Iterable[Role]) -> list[Screen]:
    """The screens of a person's roles, each once, in the order of ``SCREENS``."""
    held = set(roles)
    seen: set[str] = set()
    result: list[Screen] = []
    for role, items in SCREENS.items():
        if role not in held:
            continue
        for key, path in items:
            if path not in seen:
                seen.add(path)
                result.append((key, path))
    return result


def queue_order(items: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Overdue first, then by the step's due date (soonest first; none last), then oldest."""

    def key(item: Mapping[str, Any]) -> tuple[int, str, str]:
        due = item.get("step_due")
        overdue = bool(item.get("flags", {}).get("overdue")) or (
            due is not None and date.fromisoformat(str(due)) < today
        )
        return (0 if overdue else 1, str(due) if due else "9999-12-31", str(item["submitted_at"]))

    return sorted(items, key=key)


def is_overdue(item: Mapping[str, Any], today: date) -> bool:
    due = item.get("step_due")
    return bool(item.get("flags", {}).get("overdue")) or (
        due is not None and date.fromisoformat(str(due)) < today
    )


ACTIONS_BY_STEP: dict[str, list[tuple[str, Role]]] = {
    "supervisor_review": [("supervisor-review", Role.SUPERVISOR)],
    "returned_for_correction": [("correction", Role.FACILITATOR)],
    "back_office": [("back-office-action", Role.BACK_OFFICE)],
    "awaiting_information": [
        ("information", Role.FACILITATOR),
        ("information", Role.FRONT_OFFICE),
    ],
    "manager_approval": [("manager-decision", Role.MANAGER)],
    "feedback": [("feedback", Role.FACILITATOR)],
}
WITHDRAWERS = frozenset(
    {Role.FRONT_OFFICE, Role.BACK_OFFICE, Role.SUPERVISOR, Role.MANAGER, Role.FACILITATOR}
)


def action_forms(step: str, status: str, roles: Iterable[Role]) -> list[str]:
    """The action forms the complaint's page shows this person: those of its current step
    their roles may take, then ``withdraw`` while it is open. The workflow has the last word
    (a 409/403 is shown beside the form)."""
    held = set(roles)
    forms = [a for a, role in ACTIONS_BY_STEP.get(step, []) if role in held]
    forms = list(dict.fromkeys(forms))
    if status == "open" and held & WITHDRAWERS:
        forms.append("withdraw")
    return forms


# --- Walk-in registration ------------------------------------------------------------------

CATEGORIES = ("membership", "implementation", "program_need", "information")
NIK = re.compile(r"^\d{16}$")
PHONE = re.compile(r"^\+?\d{8,15}$")
VILLAGE = re.compile(r"^\d{10}$")


@dataclass(frozen=True)
class FieldError:
    field: str
    rule: str


def _text(form: Mapping[str, str], name: str) -> str:
    return form.get(name, "").strip()


def submission(form: Mapping[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The walk-in form as intake's submission body, and what the form itself can tell is
    wrong (intake checks everything again: its problem+json errors are shown the same way)."""
    errors: list[FieldError] = []
    village = _text(form, "village_code").replace(".", "")
    category = _text(form, "category")
    program = _text(form, "program_code") or None
    anonymous = form.get("anonymous") in ("on", "true", "1")
    description = _text(form, "description")
    if not VILLAGE.match(village):
        errors.append(FieldError("village_code", "required"))
    if category not in CATEGORIES:
        errors.append(FieldError("category", "required"))
    if category == "implementation" and not program:
        errors.append(FieldError("program_code", "required_for_implementation"))
    if anonymous and category != "implementation":
        errors.append(FieldError("anonymous", "anonymous_only_for_implementation"))
    if not description:
        errors.append(FieldError("description", "required"))
    body: dict[str, Any] = {
        "channel": "puskesos_walk_in",
        "village_code": village,
        "category": category,
        "description": description,
    }
    if program:
        body["program_code"] = program
    if anonymous:
        body["anonymous"] = True
    else:
        complainant: dict[str, Any] = {}
        name = _text(form, "name")
        nik = _text(form, "nik")
        phone = _text(form, "phone").replace(" ", "").replace("-", "")
        if not name:
            errors.append(FieldError("complainant.name", "required"))
        else:
            complainant["name"] = name
        if nik:
            if NIK.match(nik):
                complainant["nik"] = nik
            else:
                errors.append(FieldError("complainant.nik", "nik_format"))
        if phone:
            if PHONE.match(phone):
                complainant["phone"] = phone
            else:
                errors.append(FieldError("complainant.phone", "phone_format"))
        for optional in ("sex", "address"):
            value = _text(form, optional)
            if value:
                complainant[optional] = value
        body["complainant"] = complainant
    occurred = _text(form, "occurred_on")
    if occurred:
        body["occurred_on"] = occurred
    return body, errors


def field_errors(problem: Mapping[str, Any] | None) -> dict[str, str]:
    """An RFC 9457 problem's ``errors[]`` as field → message; a problem without field errors
    (403, 404, 409 …) under ``""``: shown at the top of the form."""
    if not problem:
        return {}
    result: dict[str, str] = {}
    for error in problem.get("errors") or []:
        field = str(error.get("field") or "")
        message = str(error.get("message") or error.get("rule") or "")
        result.setdefault(field, message)
    if not result:
        detail = problem.get("detail") or problem.get("title") or ""
        step = problem.get("current_step")
        result[""] = f"{detail} ({step})" if step else str(detail)
    return result


# --- Routing, explained ----------------------------------------------------------------------


@dataclass(frozen=True)
class RouteHint:
    key: str
    """Text key of the explanation."""
    program: str | None = None
    agency: str | None = None
    channel: str | None = None


def route_hint(
    category: str, program_code: str | None, catalog: Mapping[str, Mapping[str, Any]]
) -> RouteHint:
    """Where the complaint would go if the back office refers it (the SOP summary, with the
    routing data of the program catalog: the district manager keeps it, never code)."""
    if category == "information":
        return RouteHint("route_information")
    if category == "membership":
        return RouteHint("route_membership", channel="siks_ng")
    program = catalog.get(program_code or "")
    if program is None:
        return RouteHint("route_unknown_program" if program_code else "route_no_program")
    return RouteHint(
        "route_program",
        program=str(program.get("code", program_code)),
        agency=program.get("owner_agency"),
        channel=program.get("channel"),
    )
