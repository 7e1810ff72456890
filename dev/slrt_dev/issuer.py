"""The local development issuer: an RSA key pair under the stack's data folder, its JWKS file
for the services, and ``slrt-dev token --role … --area …`` to mint tokens for the demo and
tests. Never used in production (there the OIDC provider issues tokens)."""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings

KID = "slrt-dev-1"


class DevIssuer:
    def __init__(self, folder: Path, issuer: str, audience: str) -> None:
        self.folder = folder
        self.issuer = issuer
        self.audience = audience
        self.key_file = folder / "signing-key.pem"
        self.jwks_file = folder / "jwks.json"
        self._loaded: tuple[bytes, PrivateKeyTypes] | None = None

    def _signing_key(self) -> PrivateKeyTypes:
        """The private key, parsed once per key file's content: parsing (and checking) an RSA
        key took ~85 % of a load generator's CPU when every token parsed it again
        (``bench.routing_e2e`` mints one per request, ``docs/benchmarks.md``)."""
        pem = self.key_file.read_bytes()
        if self._loaded is None or self._loaded[0] != pem:
            self._loaded = (pem, serialization.load_pem_private_key(pem, password=None))
        return self._loaded[1]

    def ensure_keys(self) -> None:
        if self.key_file.exists() and self.jwks_file.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.key_file.write_bytes(pem)
        self.key_file.chmod(0o600)
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        public_jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
        self.jwks_file.write_text(json.dumps({"keys": [public_jwk]}, indent=2))

    def token(
        self,
        subject: str,
        roles: list[Role] | list[str],
        area: str,
        programs: list[str] | None = None,
        ttl_seconds: int = 8 * 3600,
        **extra: Any,
    ) -> str:
        return self._signed(
            subject,
            ttl_seconds,
            roles=[str(r) for r in roles],
            area=area,
            programs=programs or [],
            **extra,
        )

    def subject_token(self, subject: str, ttl_seconds: int = 8 * 3600) -> str:
        """A token that says who the caller is and nothing more (no ``roles``, no ``area``):
        the services authorise it by the staff directory (``slrt.auth.directory``)."""
        return self._signed(subject, ttl_seconds)

    def _signed(self, subject: str, ttl_seconds: int, **claims: Any) -> str:
        """A token of this issuer for ``subject`` with ``claims`` besides the standard ones."""
        self.ensure_keys()
        now = int(time.time())
        standard = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(
            {**standard, **claims},
            self._signing_key(),  # type: ignore[arg-type]
            algorithm="RS256",
            headers={"kid": KID},
        )


NOTIFIER_SERVICE_SUBJECT = "service:notifier"
NOTIFIER_TOKEN_ENV = "SLRT_SECRET_NOTIFIER_SERVICE_TOKEN"  # noqa: S105 -- a variable's name
"""Where the notifier finds its service token (its ``intake_token_ref`` secret, by default)."""


def notifier_service_token(issuer: DevIssuer, ttl_seconds: int = 30 * 24 * 3600) -> str:
    """The notifier's service-account token (role ``notifier_service``, national), as the OIDC
    provider's client-credentials grant gives it in production: it redeems household contact
    references at intake and can do nothing else."""
    return issuer.token(
        NOTIFIER_SERVICE_SUBJECT, [Role.NOTIFIER_SERVICE], "", ttl_seconds=ttl_seconds
    )


REGISTRY_SERVICE_SUBJECT = "service:registry"
REGISTRY_TOKEN_ENV = "SLRT_SECRET_REGISTRY_SERVICE_TOKEN"  # noqa: S105 -- a variable's name
"""Where the registry finds its service token (its ``intake_token_ref`` secret, by default)."""


def registry_service_token(issuer: DevIssuer, ttl_seconds: int = 30 * 24 * 3600) -> str:
    """The registry's service-account token (role ``registry_service``, national): it redeems
    complainant references at intake and can do nothing else."""
    return issuer.token(
        REGISTRY_SERVICE_SUBJECT, [Role.REGISTRY_SERVICE], "", ttl_seconds=ttl_seconds
    )


def default_issuer() -> DevIssuer:
    from slrt_dev.stack.config import StackSettings

    settings = AuthSettings()
    return DevIssuer(StackSettings().dev_issuer_dir, settings.issuer, settings.audience)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slrt-dev", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token", help="print a signed bearer token of the local issuer")
    token.add_argument(
        "--role",
        action="append",
        default=[],
        choices=[r.value for r in Role],
        help="a role claim (repeatable); none: a token with only sub, for the staff directory",
    )
    token.add_argument("--area", default="", help="place-code prefix; empty = national")
    token.add_argument("--program", action="append", default=[], help="program code (repeatable)")
    token.add_argument("--subject", default=None, help="user id (default: a new one)")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="seconds until expiry")
    args = parser.parse_args(argv)
    subject = args.subject or f"dev-{uuid.uuid4().hex[:8]}"
    if not args.role:
        # Directory mode: the services authorise the subject by the staff directory.
        if args.subject is None:
            parser.error("a token without --role names the directory's person: give --subject")
        print(default_issuer().subject_token(subject, args.ttl))
        return 0
    print(
        default_issuer().token(
            subject, [Role(r) for r in args.role], args.area, args.program, args.ttl
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
