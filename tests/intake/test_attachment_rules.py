"""The attachment rules as plain functions: type by content, images re-encoded without
EXIF/GPS, PDFs with active content refused, sealing with the key ring, signed download links,
clamd's protocol against the stand-in, the local folder store."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from PIL import Image

from slrt.attachments import content, links
from slrt.attachments.content import Kind
from slrt.attachments.scan import ClamdScanner, parse_reply
from slrt.attachments.sealing import PayloadKeys, Sealer, SealError
from slrt.attachments.service import may_add
from slrt.attachments.storage import LocalStore, NotStored
from slrt.errors import Invalid, Unavailable
from slrt_dev.standins.clamd import ClamdStandin
from tests.support.attachments import (
    EICAR,
    HEX_ESCAPED_JS_PDF,
    gps_of,
    jpeg_with_gps,
    pdf,
    pdf_with,
    png_with_text,
)

MAX_PIXELS = 10_000_000


def _rule(refused: Invalid) -> str:
    return refused.errors[0]["rule"]


def test_type_is_judged_by_content() -> None:
    assert content.sniff(jpeg_with_gps()) is Kind.JPEG
    assert content.sniff(png_with_text()) is Kind.PNG
    assert content.sniff(pdf()) is Kind.PDF
    for bad in (b"GIF89a....", b"<html><script>", b"MZ\x90\x00", b"PK\x03\x04"):
        with pytest.raises(Invalid) as refused:
            content.sniff(bad)
        assert refused.value.errors[0]["field"] == "file"
        assert _rule(refused.value) == "file_type"
    with pytest.raises(Invalid) as empty:
        content.sniff(b"")
    assert _rule(empty.value) == "not_empty"


def test_a_jpeg_loses_its_gps_and_camera_but_keeps_its_pixels() -> None:
    original = jpeg_with_gps()
    assert gps_of(original)  # the fixture does carry a position
    cleaned = content.clean(original, MAX_PIXELS)
    assert cleaned.kind is Kind.JPEG
    assert gps_of(cleaned.data) == {}
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert len(image.getexif()) == 0
        assert image.size == (64, 48)
        red, green, blue = image.getpixel((10, 10))  # type: ignore[misc]
        assert red > 150
        assert green < 80
        assert blue < 80
    assert b"SLRT-Test-Camera" not in cleaned.data
    assert b"SERIAL-0042" not in cleaned.data


def test_orientation_is_applied_to_the_pixels_before_the_exif_goes() -> None:
    cleaned = content.clean(jpeg_with_gps(64, 48, orientation=6), MAX_PIXELS)
    assert (cleaned.width, cleaned.height) == (48, 64)


def test_a_png_loses_its_text_chunks() -> None:
    cleaned = content.clean(png_with_text(), MAX_PIXELS)
    assert cleaned.kind is Kind.PNG
    assert b"Siti Aminah" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert "Comment" not in image.info


def test_an_image_too_large_is_refused_before_decoding() -> None:
    with pytest.raises(Invalid) as refused:
        content.clean(jpeg_with_gps(400, 300), 100_000)
    assert _rule(refused.value) == "max_pixels"


def test_a_corrupt_image_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        content.clean(b"\xff\xd8\xff\xe0" + b"\x00" * 100, MAX_PIXELS)
    assert _rule(refused.value) == "file_type"


def test_a_plain_pdf_is_kept_as_it_is() -> None:
    document = pdf()
    assert content.clean(document, MAX_PIXELS).data == document


@pytest.mark.parametrize(
    ("active", "name"),
    [
        ("javascript", "/JavaScript"),
        ("open_launch", "/Launch"),
        ("embedded_file", "/EmbeddedFiles"),
        ("page_aa", "/AA"),
    ],
)
def test_a_pdf_with_active_content_is_refused(active: str, name: str) -> None:
    with pytest.raises(Invalid) as refused:
        content.clean(pdf_with(active), MAX_PIXELS)
    assert _rule(refused.value) == "pdf_active_content"
    assert name in refused.value.errors[0]["message"]


def test_active_content_hidden_behind_hex_escaped_names_is_found() -> None:
    assert b"/JavaScript" not in HEX_ESCAPED_JS_PDF
    assert b"/OpenAction" not in HEX_ESCAPED_JS_PDF
    found = content.active_pdf_content(HEX_ESCAPED_JS_PDF)
    assert {"/OpenAction", "/JavaScript", "/JS"} <= found


def test_sealing_uses_the_key_ring_and_binds_the_object_name() -> None:
    old = PayloadKeys.generate("att-1")
    sealer = Sealer(PayloadKeys.parse(old))
    sealed = sealer.seal(b"kartu KKS", "complaints/a/b")
    assert b"kartu KKS" not in sealed
    assert sealer.open(sealed, "complaints/a/b") == b"kartu KKS"
    with pytest.raises(SealError):
        sealer.open(sealed, "complaints/a/other")  # copied under another name
    with pytest.raises(SealError):
        sealer.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "complaints/a/b")
    rotated = Sealer(PayloadKeys.parse(f"{PayloadKeys.generate('att-2')} {old}"))
    assert rotated.current_key_id == "att-2"
    assert rotated.open(sealed, "complaints/a/b") == b"kartu KKS"
    with pytest.raises(SealError):
        Sealer(PayloadKeys.parse(PayloadKeys.generate("att-3"))).open(sealed, "complaints/a/b")


def test_download_links_expire_and_cannot_be_altered() -> None:
    ring = PayloadKeys.parse(PayloadKeys.generate("att-1"))
    keys = links.link_keys(ring)
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    aid = uuid4()
    token = links.sign(keys, aid, now + timedelta(seconds=120))
    assert links.verify(keys, token, now) == aid
    with pytest.raises(links.LinkRefused):
        links.verify(keys, token, now + timedelta(seconds=121))
    _body, _, mac = token.partition(".")
    other = links.sign(keys, uuid4(), now + timedelta(days=365)).partition(".")[0]
    with pytest.raises(links.LinkRefused):
        links.verify(keys, f"{other}.{mac}", now)
    with pytest.raises(links.LinkRefused):
        links.verify(links.link_keys(PayloadKeys.parse(PayloadKeys.generate("x"))), token, now)
    with pytest.raises(links.LinkRefused):
        links.verify(keys, "garbage", now)


def test_count_limit() -> None:
    assert may_add(9, 10)
    assert not may_add(10, 10)


def test_clamd_replies() -> None:
    assert parse_reply(b"stream: OK\0").clean
    flagged = parse_reply(b"stream: Eicar-Test-Signature FOUND\0")
    assert not flagged.clean
    assert flagged.signature == "Eicar-Test-Signature"
    with pytest.raises(ValueError, match="clamd"):
        parse_reply(b"INSTREAM size limit exceeded. ERROR\0")


async def test_the_scanner_flags_eicar_at_the_clamd_stand_in() -> None:
    with ClamdStandin().running() as clamd:
        scanner = ClamdScanner.at(clamd.address)
        assert (await scanner.scan(jpeg_with_gps())).clean
        # Larger than one chunk, EICAR across the boundary of the first two.
        padded = b"A" * (64 * 1024 - 10) + EICAR + b"B" * 1000
        verdict = await scanner.scan(padded)
        assert not verdict.clean
        assert verdict.signature == "Eicar-Test-Signature"
        with pytest.raises(Invalid) as refused:
            await scanner.require_clean(EICAR)
        assert _rule(refused.value) == "virus_free"
    with pytest.raises(Unavailable):  # the scanner gone: the upload is refused, never let by
        await ClamdScanner.at(clamd.address, timeout=2).scan(b"x")


async def test_the_local_store(tmp_path: Path) -> None:
    folder = LocalStore(tmp_path / "attachments")
    await folder.put("complaints/a/b", b"sealed")
    assert await folder.get("complaints/a/b") == b"sealed"
    assert (
        await folder.delivery_link(b"x", content_type="image/png", filename="f", seconds=5) is None
    )
    await folder.delete("complaints/a/b")
    await folder.delete("complaints/a/b")  # idempotent
    with pytest.raises(NotStored):
        await folder.get("complaints/a/b")
    for bad in ("../etc/passwd", "/abs", "deliveries/x"):
        with pytest.raises(ValueError, match="not a valid object name"):
            await folder.put(bad, b"x")
