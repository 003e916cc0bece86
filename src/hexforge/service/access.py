"""Bearer tokens and the rule of each route (SPEC §14).

A route of a component served with ``auth=jwt`` declares who may call it::

    actor: Annotated[Actor, access.rule("role:admin|clerk")]

:func:`rule` reads the rule (:mod:`hexforge.access`) and returns the FastAPI
dependency that enforces it: ``public`` hands the route ``ANONYMOUS`` without
looking at any token; the others verify the request's bearer token with the
application's :class:`Verifier` (401, with ``WWW-Authenticate: Bearer``, when it is
missing or invalid) and check the roles (403). The route gets the acting principal
as a plain :class:`~hexforge.actor.Actor`, which is all the domain ever sees.

The verifier uses PyJWT: the signature (HS256 with a shared secret, or RS256/ES256
with the keys of a JWKS document, fetched through a :class:`KeySource` and cached,
fetched again for an unknown ``kid``), ``iss``, ``aud``, ``exp`` and ``sub`` required,
``nbf`` and ``iat`` honoured with a leeway; ``alg: none`` and every algorithm not
configured are refused.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hexforge.access import AccessError, Rule, parse_rule
from hexforge.actor import ANONYMOUS, Actor
from hexforge.service.problems import ProblemError
from hexforge.service.settings import ServiceSettings, SettingsError

SHARED_SECRET_ALGORITHMS = ("HS256",)
KEY_SET_ALGORITHMS = ("RS256", "ES256")
# An unknown kid fetches the key set again, but not more often than this: a flood of
# forged tokens must not become a flood of requests to the identity provider.
REFETCH_AFTER_S = 30.0
JWKS_TIMEOUT_S = 5.0

# Declares the scheme in the OpenAPI document; the rule answers a missing token itself.
BEARER_SCHEME = "HTTPBearer"
bearer = HTTPBearer(
    auto_error=False, scheme_name=BEARER_SCHEME, description="a JWT issued for this API"
)


class Unauthorized(Exception):
    """The request carries no valid token; the message says why (it reaches the 401)."""


class KeySource(ABC):
    """Outbound port: where the verification keys come from (a JWKS document)."""

    @abstractmethod
    async def fetch(self) -> dict[str, Any]:
        """The JWKS document, as JSON: ``{"keys": [...]}``."""


class JwksOverHttp(KeySource):
    """The identity provider's JWKS endpoint."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def fetch(self) -> dict[str, Any]:
        return await asyncio.to_thread(self._get)

    def _get(self) -> dict[str, Any]:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=JWKS_TIMEOUT_S) as response:
            document: dict[str, Any] = json.loads(response.read())
        return document


class InMemoryKeys(KeySource):
    """The in-memory twin of :class:`JwksOverHttp`: a key set held in memory, which a
    test replaces to rotate keys; ``fetches`` counts what the verifier asked."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0

    async def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        return self.document


class Verifier:
    """Turns a bearer token into the actor it vouches for, or refuses it."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        secret: str | None = None,
        keys: KeySource | None = None,
        leeway_s: int = 30,
        roles_claim: str = "roles",
    ) -> None:
        if (secret is None) == (keys is None):
            raise ValueError("a verifier takes a shared secret or a key source, not both")
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self.roles_claim = roles_claim
        self._secret = secret
        self._keys = keys
        self._known: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -REFETCH_AFTER_S
        self._fetching = asyncio.Lock()

    async def actor(self, token: str) -> Actor:
        """The actor ``token`` vouches for; :class:`Unauthorized` saying why not."""
        try:
            header = jwt.get_unverified_header(token)
            key, algorithms = await self._key_for(header)
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"invalid token: {error}") from error
        roles = claims.get(self.roles_claim, [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise Unauthorized(
                f"invalid token: claim {self.roles_claim!r} is not a list of strings"
            )
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise Unauthorized("invalid token: sub is not a non-empty string")
        return Actor(subject=subject, roles=frozenset(roles))

    async def _key_for(self, header: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
        if self._secret is not None:
            return self._secret, SHARED_SECRET_ALGORITHMS
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise jwt.InvalidTokenError("the token names no key (kid)")
        if kid not in self._known:
            await self._refetch()
        found = self._known.get(kid)
        if found is None:
            raise jwt.InvalidTokenError(f"no key {kid!r} in the key set")
        return found, KEY_SET_ALGORITHMS

    async def _refetch(self) -> None:
        async with self._fetching:
            if time.monotonic() - self._fetched_at < REFETCH_AFTER_S:
                return
            assert self._keys is not None
            self._fetched_at = time.monotonic()
            try:
                document = await self._keys.fetch()
                key_set = jwt.PyJWKSet.from_dict(document)
            except (OSError, ValueError, jwt.PyJWKError, jwt.PyJWKSetError) as error:
                raise jwt.InvalidTokenError(f"the key set cannot be read: {error}") from error
            self._known = {key.key_id: key for key in key_set.keys if key.key_id}


def _verifier(request: Request) -> Verifier:
    verifier = getattr(request.app.state, "hexforge_verifier", None)
    if not isinstance(verifier, Verifier):
        raise RuntimeError("a route needs tokens but the application has no verifier")
    return verifier


def _unauthorized(reason: str, challenge: str = 'Bearer error="invalid_token"') -> ProblemError:
    return ProblemError(
        HTTPStatus.UNAUTHORIZED, "Unauthorized", reason, headers={"WWW-Authenticate": challenge}
    )


async def _anyone() -> Actor:
    return ANONYMOUS


def _dependency(parsed: Rule) -> Callable[..., Awaitable[Actor]]:
    async def signed_in(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Actor:
        if credentials is None:
            raise _unauthorized("a bearer token is required", "Bearer")
        try:
            actor = await _verifier(request).actor(credentials.credentials)
        except Unauthorized as error:
            raise _unauthorized(str(error)) from error
        if parsed.roles and not actor.has_role(*parsed.roles):
            raise ProblemError(
                HTTPStatus.FORBIDDEN,
                "Forbidden",
                f"this operation needs the role {' or '.join(parsed.roles)}",
            )
        return actor

    return signed_in


def rule(text: str) -> Any:
    """The dependency enforcing the access rule ``text`` (``public``, ``authenticated``,
    ``role:NAME[|NAME...]``), for a route parameter ``Annotated[Actor, rule(...)]``."""
    try:
        parsed = parse_rule(text)
    except AccessError as error:
        raise ValueError(f"access rule {text!r}: {error}") from None
    enforce = _anyone if parsed.public else _dependency(parsed)
    return Depends(enforce)


def needs_tokens(app: FastAPI) -> bool:
    """Whether any route of ``app`` has a rule that verifies tokens (not ``public``):
    read from its OpenAPI document, where each such route declares the bearer scheme
    (the routes themselves may sit behind included routers FastAPI builds lazily)."""
    schemes = app.openapi().get("components", {}).get("securitySchemes", {})
    return BEARER_SCHEME in schemes


def verifier_from(settings: ServiceSettings) -> Verifier:
    """The verifier the ``AUTH_*`` settings describe; SettingsError naming what is
    missing when they describe none."""
    problem = settings.auth_problem()
    if problem is not None:
        raise SettingsError(problem)
    assert settings.auth_issuer is not None and settings.auth_audience is not None
    secret = settings.auth_hs256_secret
    return Verifier(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        secret=None if secret is None else secret.get_secret_value(),
        keys=None if settings.auth_jwks_url is None else JwksOverHttp(settings.auth_jwks_url),
        leeway_s=settings.auth_leeway_s,
        roles_claim=settings.auth_roles_claim,
    )


@dataclass(frozen=True)
class TestIssuer:
    """Mints the tokens a ``Verifier`` with its shared secret accepts, and the ones it
    must refuse: what a project's tests (and a local run) sign in with. Never a
    production issuer: its secret is in the code."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    issuer: str = "https://issuer.test"
    audience: str = "hexforge-test"
    secret: str = "hexforge-test-secret-not-for-production"

    def verifier(self) -> Verifier:
        return Verifier(issuer=self.issuer, audience=self.audience, secret=self.secret)

    def claims(self, roles: Iterable[str] = (), **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        values: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "tester",
            "iat": now,
            "exp": now + 300,
            "roles": list(roles),
        }
        return {**values, **changes}

    def token(self, *roles: str, **changes: Any) -> str:
        """A valid token holding ``roles``; ``changes`` replace claims (sub=...)."""
        return jwt.encode(self.claims(roles, **changes), self.secret, algorithm="HS256")

    def refused(self) -> dict[str, str]:
        """One token per way a token is invalid (each must get 401), by name."""
        past = int(time.time()) - 3600
        unsigned = ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in ({"alg": "none", "typ": "JWT"}, self.claims())
        )
        return {
            "expired": self.token(exp=past, iat=past - 60),
            "wrong_issuer": self.token(iss="https://someone-else.test"),
            "wrong_audience": self.token(aud="another-api"),
            "bad_signature": jwt.encode(self.claims(), self.secret + "!", algorithm="HS256"),
            "alg_none": unsigned + ".",
        }
