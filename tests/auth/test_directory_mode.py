"""Authorisation by the staff directory: a token with claims is taken at its word; a token with
only ``sub`` is the directory's active person of that subject; anyone else is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slrt.auth import Role
from slrt.auth.directory import DirectoryCopy, DirectoryNotReady, NotInDirectory, principal_of
from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal, enclosing_area
from slrt.auth.tokens import AuthSettings, TokenVerifier
from slrt.contracts.staff import StaffPerson
from slrt.settings import ConnectionSettings
from slrt.staff_directory import apply
from slrt_dev.issuer import DevIssuer

pytestmark = pytest.mark.unit

ISSUER = "https://auth.slrt.local/dev"
NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
V1, V2, ELSEWHERE = "3204052001", "3204112001", "3204062001"


def _person(subject: str, roles: list[Role], areas: list[str], **more: object) -> StaffPerson:
    return StaffPerson.model_validate(
        {
            "person_id": uuid.uuid4(),
            "subject": subject,
            "display_name": "Ani Lestari",
            "roles": roles,
            "areas": areas,
            "active_from": NOW - timedelta(days=30),
            "version": 1,
            "updated_at": NOW,
            **more,
        }
    )


@pytest.fixture
def issuer(tmp_path: Path) -> DevIssuer:
    issuer = DevIssuer(tmp_path / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    return issuer


@pytest.fixture
def copy() -> DirectoryCopy:
    copy = DirectoryCopy(ConnectionSettings(), clock=lambda: NOW)
    apply(copy.snapshot, _person("kc-ani", [Role.FACILITATOR], [V1, V2]))
    apply(copy.snapshot, _person("kc-gone", [Role.BACK_OFFICE], ["3204"], active_until=NOW))
    return copy


@pytest.fixture
def verifier(issuer: DevIssuer, copy: DirectoryCopy) -> TokenVerifier:
    verifier = TokenVerifier(
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    verifier.directory = copy
    return verifier


async def test_a_token_with_claims_works_as_before(
    issuer: DevIssuer, verifier: TokenVerifier, copy: DirectoryCopy
) -> None:
    copy.ready.set()
    # Even for a subject the directory knows: the claims win.
    principal = await verifier.verify(issuer.token("kc-ani", [Role.BACK_OFFICE], "3204"))
    assert principal.roles == {Role.BACK_OFFICE}
    assert principal.area == "3204"
    assert principal.areas == frozenset()


async def test_a_subject_only_token_gets_the_directorys_roles_and_areas(
    issuer: DevIssuer, verifier: TokenVerifier, copy: DirectoryCopy
) -> None:
    copy.ready.set()
    token = issuer.subject_token("kc-ani")
    principal = await verifier.verify(token)
    assert principal.roles == {Role.FACILITATOR}
    assert principal.areas == {V1, V2}
    assert principal.area == "3204"
    # The villages of both sub-districts, and nothing else of the district.
    assert decide(principal, Action.COMPLAINT_READ, place_code=V1) is Decision.ALLOW
    assert decide(principal, Action.COMPLAINT_READ, place_code=V2) is Decision.ALLOW
    assert decide(principal, Action.COMPLAINT_READ, place_code=ELSEWHERE) is Decision.NOT_FOUND
    assert principal.scopes == [V1, V2]
    # A change in the directory applies to the next use of the same (cached) token.
    moved = copy.snapshot.persons[copy.snapshot.subjects["kc-ani"]].model_copy(
        update={"roles": [Role.SUPERVISOR], "areas": ["320405"], "version": 2}
    )
    apply(copy.snapshot, moved)
    again = await verifier.verify(token)
    assert again.roles == {Role.SUPERVISOR}
    assert again.areas == {"320405"}


async def test_unknown_or_inactive_subjects_are_refused(
    issuer: DevIssuer, verifier: TokenVerifier, copy: DirectoryCopy
) -> None:
    # Before the copy has read the topic, an unknown subject may yet appear: 503, not 403.
    with pytest.raises(DirectoryNotReady):
        await verifier.verify(issuer.subject_token("kc-nobody"))
    copy.ready.set()
    with pytest.raises(NotInDirectory):
        await verifier.verify(issuer.subject_token("kc-nobody"))
    with pytest.raises(NotInDirectory):
        await verifier.verify(issuer.subject_token("kc-gone"))


async def test_without_a_directory_a_subject_only_token_has_no_role(issuer: DevIssuer) -> None:
    verifier = TokenVerifier(
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    principal = await verifier.verify(issuer.subject_token("kc-ani"))
    assert principal.roles == frozenset()
    assert decide(principal, Action.COMPLAINT_READ, place_code=V1) is not Decision.ALLOW


async def test_verify_claims_says_which_tokens_leave_the_caller_to_the_directory(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    # A client without a copy (the console) reads the token's own claims and asks the
    # registry for a subject-only token's person; no directory is consulted here.
    token = issuer.subject_token("kc-nobody")
    only, by_directory = await verifier.verify_claims(token)
    assert (only.subject, only.roles, by_directory) == ("kc-nobody", frozenset(), True)
    claims, by_directory = await verifier.verify_claims(
        issuer.token("kc-ani", [Role.BACK_OFFICE], "3204")
    )
    assert claims.roles == {Role.BACK_OFFICE}
    assert by_directory is False
    # Cached, the answer is the same.
    assert await verifier.verify_claims(token) == (only, True)


def test_enclosing_areas_and_program_managers() -> None:
    assert enclosing_area([V1, V2]) == "3204"
    assert enclosing_area([V1, "3204052002"]) == "320405"
    assert enclosing_area([V1]) == V1
    assert enclosing_area(["3204", "3273"]) == "32"
    assert enclosing_area(["32", "33"]) == ""
    assert enclosing_area(["", "3204"]) == ""
    pm = principal_of(
        _person("kc-pm", [Role.PROGRAM_MANAGER], ["3204"], programs=["PKH"], email="a@b.id")
    )
    assert pm.programs == {"PKH"}
    assert decide(pm, Action.REFERRAL_ANSWER, program="PKH") is Decision.ALLOW
    claims = Principal(subject="x", roles=frozenset({Role.MANAGER}), area="3204")
    assert claims.scopes == ["3204"]
    assert claims.covers(V1)
