"""Domain errors: what code below the API layer raises when a request cannot be done.

Each maps to one RFC 9457 problem document in ``slrt.problems`` (the only place that knows
HTTP): ``NotFound`` 404, ``Conflict`` 409, ``Refused`` 403, ``Invalid`` 422 (with the field and
the rule each error breaks), ``Unauthenticated`` 401, ``RateLimited`` 429 and ``Unavailable``
503 (or 502 for an upstream that answered wrongly), the last two with ``Retry-After`` when
known. ``kind`` (the problem type's slug) and ``title`` default per class; a caller names them
when clients tell cases apart by type (``wrong-step``, ``idempotency-key-reused``). Details never
carry personal data.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict


class FieldError(TypedDict):
    """One broken rule: the field's path, the rule's name and a plain-words message."""

    field: str
    rule: str
    message: str


def field_error(field: str, rule: str, message: str) -> FieldError:
    return {"field": field, "rule": rule, "message": message}


class DomainError(Exception):
    status: int = 400
    default_kind: ClassVar[str] = "bad-request"
    default_title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        kind: str | None = None,
        title: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or self.default_title)
        self.detail = detail
        self.kind = kind or self.default_kind
        self.title = title or self.default_title
        self.extensions = extensions

    def headers(self) -> dict[str, str] | None:
        return None


class NotFound(DomainError):
    status = 404
    default_kind = "not-found"
    default_title = "Not found"


class Conflict(DomainError):
    status = 409
    default_kind = "conflict"
    default_title = "Conflict"


class Refused(DomainError):
    """Not allowed: the caller's role may not do this here."""

    status = 403
    default_kind = "forbidden"
    default_title = "Not allowed"


class Invalid(DomainError):
    """The request breaks a rule; ``errors`` name each field and rule when there are fields."""

    status = 422
    default_kind = "invalid-request"
    default_title = "The request is not valid"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        kind: str | None = None,
        title: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail, kind=kind, title=title, **extensions)
        self.errors = list(errors or [])


class Unauthenticated(DomainError):
    status = 401
    default_kind = "unauthenticated"
    default_title = "Authentication required"

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": 'Bearer realm="slrt"'}


class RateLimited(DomainError):
    status = 429
    default_kind = "too-many-requests"
    default_title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(DomainError):
    """A dependency did not answer (503), or an upstream answered wrongly (``upstream``: 502)."""

    status = 503
    default_kind = "unavailable"
    default_title = "Temporarily unavailable"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int | None = None,
        upstream: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(detail, **kw)
        self.retry_after = retry_after
        if upstream:
            self.status = 502

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
