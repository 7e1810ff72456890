"""Files for the attachment tests, made here: a JPEG carrying GPS EXIF, a PNG with a text
chunk, PDFs with and without active content, the EICAR test string."""

from __future__ import annotations

import io
from typing import Any

from PIL import ExifTags, Image, PngImagePlugin
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from slrt_dev.standins.clamd import EICAR

__all__ = [
    "EICAR",
    "GPS",
    "HEX_ESCAPED_JS_PDF",
    "gps_of",
    "jpeg_with_gps",
    "pdf",
    "pdf_with",
    "png_with_text",
]

GPS: dict[int, Any] = {
    ExifTags.GPS.GPSLatitudeRef: "S",
    ExifTags.GPS.GPSLatitude: (6.0, 54.0, 1.5),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (107.0, 36.0, 2.25),
}
"""A position in Kabupaten Bandung: what a household's photo must not give away."""


def jpeg_with_gps(width: int = 64, height: int = 48, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SLRT-Test-Camera"
    exif[ExifTags.Base.BodySerialNumber] = "SERIAL-0042"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def png_with_text() -> bytes:
    image = Image.new("RGBA", (10, 10), (0, 128, 0, 255))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Siti Aminah 3204054107850003")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with(active: str) -> bytes:
    """A one-page PDF carrying ``active``: javascript, open_launch, embedded_file, page_aa."""
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    if active == "javascript":
        # Document-level JavaScript: the catalog's /Names /JavaScript name tree.
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hello');"),
            }
        )
        tree = DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("hello"), action])}
        )
        writer._root_object[NameObject("/Names")] = DictionaryObject(
            {NameObject("/JavaScript"): tree}
        )
    elif active == "open_launch":
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("x.exe")}
        )
    elif active == "embedded_file":
        writer.add_attachment("note.txt", b"hello")
    elif active == "page_aa":
        page[NameObject("/AA")] = DictionaryObject(
            {
                NameObject("/O"): DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/JavaScript"),
                        NameObject("/JS"): TextStringObject("app.alert(1)"),
                    }
                )
            }
        )
    else:
        raise ValueError(active)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


HEX_ESCAPED_JS_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R /Open#41ction 4 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >> endobj\n"
    b"4 0 obj << /S /J#61vaScript /J#53 (app.alert(1)) >> endobj\n"
    b"trailer << /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"
)
"""Active content whose names are written with ``#`` hex escapes (``/J#61vaScript`` is
``/JavaScript``), with a broken cross-reference (pypdf rebuilds it): found by parsing, not by
byte search."""
