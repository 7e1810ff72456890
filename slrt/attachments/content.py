"""What an uploaded file is, by its content, and the safe form of it that is kept.

Rules (plain functions, no I/O):

- the type is read from the first bytes (magic numbers): JPEG ``FF D8 FF``, PNG
  ``89 50 4E 47 0D 0A 1A 0A``, PDF ``%PDF-``; anything else is refused, whatever its name or
  ``Content-Type`` says;
- images are decoded and re-encoded (Pillow) from their pixels alone: EXIF (GPS position,
  camera serial, time), XMP, ICC comments and PNG text chunks are not carried over; the EXIF
  orientation is applied to the pixels first so the picture stays upright. Images larger than
  ``max_pixels`` are refused before decoding (decompression bombs);
- PDFs are parsed (pypdf) and refused when they carry active content: JavaScript, actions run
  on open or on events, launch actions, embedded files, forms that submit, rich media. Found by
  name in every object of the file (not only where a viewer would look), so a key hidden in an
  unreferenced or compressed object stream counts too.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject

from slrt.errors import Invalid, field_error


class Kind(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    PDF = "application/pdf"

    @property
    def extension(self) -> str:
        return {Kind.JPEG: "jpg", Kind.PNG: "png", Kind.PDF: "pdf"}[self]


MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"\xff\xd8\xff", Kind.JPEG),
    (b"\x89PNG\r\n\x1a\n", Kind.PNG),
    (b"%PDF-", Kind.PDF),
)

ACTIVE_PDF_KEYS: frozenset[str] = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/SubmitForm",
        "/ImportData",
        "/RichMedia",
        "/GoToR",
        "/GoToE",
        "/XFA",
    }
)
"""Names whose presence anywhere in a PDF makes it active content (scripts, actions run on open
or on events, launching programs, files inside the file, forms that send data, remote links)."""


def refused(rule: str, message: str) -> Invalid:
    return Invalid(message, errors=[field_error("file", rule, message)])


def sniff(data: bytes) -> Kind:
    """The file's type by its first bytes; :class:`Invalid` on ``file`` otherwise."""
    if not data:
        raise refused("not_empty", "the file is empty")
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    raise refused("file_type", "not a JPEG, PNG or PDF file (judged by its content)")


@dataclass(frozen=True)
class Cleaned:
    kind: Kind
    data: bytes
    width: int | None = None
    height: int | None = None


def clean_image(data: bytes, kind: Kind, max_pixels: int) -> Cleaned:
    """The image re-encoded from its pixels only (no EXIF, GPS, XMP, text chunks)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                expected = "JPEG" if kind is Kind.JPEG else "PNG"
                if opened.format != expected:
                    raise refused("file_type", f"the content is not a valid {expected} image")
                width, height = opened.size
                if width * height > max_pixels:
                    raise refused("max_pixels", f"the image has more than {max_pixels} pixels")
                opened.load()
                upright = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refused("max_pixels", f"the image has more than {max_pixels} pixels") from None
    except (OSError, SyntaxError, ValueError):
        raise refused("file_type", "the image cannot be decoded") from None
    # A new image holding the pixels alone: nothing of the original's info travels with it.
    mode = upright.mode
    if kind is Kind.JPEG and mode not in ("RGB", "L", "CMYK"):
        mode = "RGB"
    if kind is Kind.PNG and mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"):
        mode = "RGBA"
    pixels = upright.convert(mode) if mode != upright.mode else upright
    bare = Image.new(pixels.mode, pixels.size)
    if pixels.mode == "P":
        palette = pixels.getpalette()
        if palette is not None:
            bare.putpalette(palette)
    bare.paste(pixels)
    out = io.BytesIO()
    if kind is Kind.JPEG:
        bare.save(out, format="JPEG", quality=90, optimize=True)
    else:
        bare.save(out, format="PNG", optimize=True)
    return Cleaned(kind, out.getvalue(), bare.width, bare.height)


def _names(value: PdfObject, seen: set[int], found: set[str], depth: int = 0) -> None:
    if depth > 64:
        return
    if isinstance(value, IndirectObject):
        if value.idnum in seen:
            return
        seen.add(value.idnum)
        resolved = value.get_object()
        if resolved is None:
            return
        value = resolved
    if isinstance(value, DictionaryObject):
        for key, item in value.items():
            if key in ACTIVE_PDF_KEYS:
                found.add(str(key))
            # /S /JavaScript, /S /Launch: the action's type names it.
            if key == "/S" and str(item) in ACTIVE_PDF_KEYS:
                found.add(str(item))
            _names(item, seen, found, depth + 1)
    elif isinstance(value, ArrayObject):
        for item in value:
            _names(item, seen, found, depth + 1)


def active_pdf_content(data: bytes) -> set[str]:
    """The active-content names a PDF carries (empty: none). :class:`Invalid` if unreadable."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise refused("pdf_encrypted", "encrypted PDFs are not accepted")
        found: set[str] = set()
        seen: set[int] = set()
        _names(reader.trailer, seen, found)
        # Every object of the file, referenced from the trailer or not.
        for generation_objects in reader.xref.values():
            for idnum in generation_objects:
                if idnum in seen:
                    continue
                seen.add(idnum)
                obj = reader.get_object(idnum)
                if obj is not None:
                    _names(obj, seen, found)
    except Invalid:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, RecursionError):
        raise refused("file_type", "the PDF cannot be read") from None
    # Names that only appear in the raw bytes (a broken object pypdf skipped) count too.
    for name in ACTIVE_PDF_KEYS:
        if (
            name.encode() + b" " in data
            or name.encode() + b"(" in data
            or (name.encode() + b"<" in data)
        ):
            found.add(name)
    return found


def check_pdf(data: bytes) -> Cleaned:
    """The PDF as uploaded, if it carries no active content; :class:`Invalid` otherwise."""
    active = active_pdf_content(data)
    if active:
        names = ", ".join(sorted(active))
        raise refused("pdf_active_content", f"the PDF carries active content ({names})")
    return Cleaned(Kind.PDF, data)


def clean(data: bytes, max_pixels: int) -> Cleaned:
    """Sniff, then make safe: the form of the file that is kept."""
    kind = sniff(data)
    if kind is Kind.PDF:
        return check_pdf(data)
    return clean_image(data, kind, max_pixels)
