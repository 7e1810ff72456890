"""The shipped place directory and secret references."""

from __future__ import annotations

from pathlib import Path

import pytest

from slrt import secrets
from slrt.places import Level, directory, normalise_code


def test_the_directory_holds_every_kemendagri_code() -> None:
    places = directory()
    assert len(places) == 91_599
    levels = [p.level for p in places]
    assert levels.count(Level.PROVINCE) == 38
    assert levels.count(Level.REGENCY) == 514
    assert levels.count(Level.SUB_DISTRICT) == 7_285
    assert levels.count(Level.VILLAGE) == 83_762


def test_lineage_and_children() -> None:
    places = directory()
    names = [p.name for p in places.lineage("3204052001")]
    assert names == ["Jawa Barat", "Kabupaten Bandung", "Cileunyi", "Cileunyi Kulon"]
    assert places.is_village("3204052001")
    assert not places.is_village("320405")
    assert not places.is_village("3204059999")
    assert all(c.code.startswith("320405") for c in places.children("320405"))


@pytest.mark.parametrize(("raw", "plain"), [("32.04.05.2001", "3204052001"), ("32", "32")])
def test_codes_are_stored_without_dots(raw: str, plain: str) -> None:
    assert normalise_code(raw) == plain


@pytest.mark.parametrize("raw", ["320", "32.04.05.200", "abcd", ""])
def test_malformed_codes_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="2, 4, 6 or 10 digits"):
        normalise_code(raw)


def test_secret_references_resolve_from_files_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pkh-jamsos").write_text("whsec_bmV3 whsec_b2xk\n")
    assert secrets.webhook_keys("pkh-jamsos", tmp_path) == ["whsec_bmV3", "whsec_b2xk"]
    monkeypatch.setenv("SLRT_SECRET_BPNT_BULOG", "whsec_ZW52")
    assert secrets.webhook_keys("bpnt-bulog", tmp_path) == ["whsec_ZW52"]
    monkeypatch.setenv("SLRT_SECRET_PLAIN", "hunter2")
    with pytest.raises(secrets.SecretNotFound, match="does not hold whsec_"):
        secrets.webhook_keys("plain", tmp_path)
    with pytest.raises(secrets.SecretNotFound, match="neither in"):
        secrets.resolve("missing", tmp_path)
    with pytest.raises(secrets.SecretNotFound, match="not a valid name"):
        secrets.resolve("../etc/passwd", tmp_path)
