"""Authentication (OIDC bearer JWTs verified against the issuer's JWKS) and authorisation
(one pure table: role × action × area), shared by every service with an API."""

from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal, Role

__all__ = ["Action", "Decision", "Principal", "Role", "decide"]
