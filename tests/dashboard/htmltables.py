"""Reading the dashboard's HTML tables back in tests (stdlib parser, no browser)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: dict[str, list[str]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id", "").startswith("table-"):  # type: ignore[union-attr]
            self._table = str(attributes["id"])[len("table-") :]
            self.tables[self._table] = []
            self.links[self._table] = []
        elif self._table and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []
        elif self._table and tag == "a" and attributes.get("href"):
            self.links[self._table].append(str(attributes["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> tuple[dict[str, list[list[str]]], dict[str, list[str]]]:
    """Every dashboard table by name (header row first), and the links inside each."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables, parser.links
