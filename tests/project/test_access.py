"""Access control in the package (SPEC §14): the access answer's language, token
verification with PyJWT, and the rule a route declares, on a small FastAPI app.

Every refusal a token can earn is tried: none, expired, not yet valid, wrong issuer,
wrong audience, bad signature, ``alg: none``, an algorithm not configured (an HS256
token signed with a public key's bytes), no subject, roles that are not a list, an
unknown key; keys rotate through the JWKS port's in-memory twin.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Annotated, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from hexforge.access import AccessError, Rule, access_error, parse_access, parse_rule
from hexforge.actor import ANONYMOUS, Actor
from hexforge.service import access, problems
from hexforge.service.settings import ServiceSettings, SettingsError
from tests.helpers import Answer, asgi_get

ISSUER, AUDIENCE = "https://id.example", "shop-api"
SECRET = "s" * 40


# -- the language -----------------------------------------------------------------------


def test_every_operation_gets_a_rule_the_star_or_closed_by_default() -> None:
    rules = parse_access("*=role:admin, list=public, get=authenticated", ["cancel"])

    assert {op: rule.text for op, rule in rules.items()} == {
        "list": "public",
        "get": "authenticated",
        "create": "role:admin",
        "replace": "role:admin",
        "delete": "role:admin",
        "cancel": "role:admin",
    }
    assert parse_access("list=public")["delete"] == Rule()  # unnamed, no *: authenticated
    assert parse_rule("role:clerk|patient").statuses == (401, 403)
    assert parse_rule("authenticated").statuses == (401,)
    assert parse_rule("public").statuses == ()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("cancel=public", "access: unknown operation 'cancel': operations are list, get,"),
        ("list=everyone", "access: unknown rule 'everyone': a rule is public, authenticated"),
        ("list=role:", "access: role name '' in 'role:' is not an identifier"),
        ("list=role:9lives", "access: role name '9lives' in 'role:9lives' is not an identifier"),
        ("list=role:a-b", "access: role name 'a-b' in 'role:a-b' is not an identifier"),
        ("list=role:a|a", "access: 'role:a|a' names a role twice"),
        ("list=public, list=public", "access: operation 'list' is given a rule twice"),
        ("list", "access: 'list' is not OPERATION=RULE"),
    ],
)
def test_a_bad_answer_is_one_line_naming_the_value_and_the_rule(answer: str, message: str) -> None:
    error = access_error(answer)

    assert error.startswith(message), error
    assert "\n" not in error


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True))
def test_any_identifier_is_a_role_and_round_trips(role: str) -> None:
    assert parse_rule(f"role:{role}").text == f"role:{role}"


@given(st.text(max_size=30).filter(lambda text: text.strip() not in {"public", "authenticated"}))
def test_any_other_text_is_refused_as_a_rule_or_is_a_role_rule(text: str) -> None:
    try:
        parsed = parse_rule(text)
    except AccessError:
        return
    assert parsed.roles and text.strip().startswith("role:")


# -- tokens -----------------------------------------------------------------------------


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ann", "exp": now + 300, "iat": now}
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def hs256(**changes: Any) -> str:
    return jwt.encode(claims(**changes), SECRET, algorithm="HS256")


def unsigned(**changes: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(**changes))}."


def verify(verifier: access.Verifier, token: str) -> Actor:
    return asyncio.run(verifier.actor(token))


def shared() -> access.Verifier:
    return access.Verifier(issuer=ISSUER, audience=AUDIENCE, secret=SECRET)


def test_a_valid_token_gives_its_subject_and_roles() -> None:
    actor = verify(shared(), hs256(roles=["clerk", "admin"]))

    assert actor == Actor(subject="ann", roles=frozenset({"clerk", "admin"}))
    assert actor.has_role("admin", "nobody") and not actor.has_role("nobody")


REFUSED = {
    "expired": (lambda: hs256(exp=int(time.time()) - 120), "Signature has expired"),
    "not yet valid": (lambda: hs256(nbf=int(time.time()) + 120), "not yet valid"),
    "no expiry": (lambda: hs256(exp=None), 'missing the "exp" claim'),
    "wrong issuer": (lambda: hs256(iss="https://evil.example"), "Invalid issuer"),
    "wrong audience": (lambda: hs256(aud="another-api"), "Audience doesn't match"),
    "bad signature": (
        lambda: jwt.encode(claims(), "x" * 40, algorithm="HS256"),
        "Signature verification failed",
    ),
    "alg none": (unsigned, "not allowed"),
    "no subject": (lambda: hs256(sub=None), 'missing the "sub" claim'),
    "roles not a list": (lambda: hs256(roles="admin"), "'roles' is not a list of strings"),
    "not a token": (lambda: "abc.def", "invalid token"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_every_bad_token_is_refused_saying_why(case: str) -> None:
    make, reason = REFUSED[case]

    with pytest.raises(access.Unauthorized, match=reason):
        verify(shared(), make())


def test_the_leeway_admits_a_token_just_expired() -> None:
    verifier = access.Verifier(issuer=ISSUER, audience=AUDIENCE, secret=SECRET, leeway_s=60)

    assert verify(verifier, hs256(exp=int(time.time()) - 30)).subject == "ann"


def jwk(private: Any, kid: str) -> dict[str, Any]:
    public = private.public_key()
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(public, rsa.RSAPublicKey) else None
    algorithm = algorithm or jwt.algorithms.ECAlgorithm
    key: dict[str, Any] = json.loads(algorithm.to_jwk(public))
    return {**key, "kid": kid, "use": "sig"}


def test_keys_come_from_the_key_set_and_an_unknown_kid_fetches_it_again() -> None:
    old, new = rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1())
    keys = access.InMemoryKeys({"keys": [jwk(old, "old")]})
    verifier = access.Verifier(issuer=ISSUER, audience=AUDIENCE, keys=keys)

    async def scenario() -> list[str]:
        seen = []
        token = jwt.encode(claims(), old, algorithm="RS256", headers={"kid": "old"})
        seen.append((await verifier.actor(token)).subject or "")
        seen.append((await verifier.actor(token)).subject or "")  # cached: no fetch
        keys.document = {"keys": [jwk(old, "old"), jwk(new, "new")]}  # rotation
        verifier._fetched_at -= access.REFETCH_AFTER_S
        token = jwt.encode(claims(sub="bob"), new, algorithm="ES256", headers={"kid": "new"})
        seen.append((await verifier.actor(token)).subject or "")
        return seen

    assert asyncio.run(scenario()) == ["ann", "ann", "bob"]
    assert keys.fetches == 2


def test_a_flood_of_unknown_kids_fetches_the_key_set_once() -> None:
    private = rsa.generate_private_key(65537, 2048)
    keys = access.InMemoryKeys({"keys": [jwk(private, "k1")]})
    verifier = access.Verifier(issuer=ISSUER, audience=AUDIENCE, keys=keys)
    forged = [
        jwt.encode(claims(), private, algorithm="RS256", headers={"kid": f"x{i}"})
        for i in range(20)
    ]

    for token in forged:
        with pytest.raises(access.Unauthorized, match="no key"):
            verify(verifier, token)
    assert keys.fetches == 1


def test_a_key_set_verifier_refuses_hs256_signed_with_the_public_key() -> None:
    private = rsa.generate_private_key(65537, 2048)
    keys = access.InMemoryKeys({"keys": [jwk(private, "k1")]})
    verifier = access.Verifier(issuer=ISSUER, audience=AUDIENCE, keys=keys)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Forged the classic way: HMAC keyed with the public key's bytes.
    header = {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    body = json.dumps(claims()).encode()

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    import hashlib
    import hmac

    signing = f"{part(json.dumps(header).encode())}.{part(body)}"
    signature = hmac.new(pem, signing.encode(), hashlib.sha256).digest()

    with pytest.raises(access.Unauthorized, match="not allowed"):
        verify(verifier, f"{signing}.{part(signature)}")


# -- routes -----------------------------------------------------------------------------


async def described(actor: Actor) -> dict[str, Any]:
    return {"subject": actor.subject, "roles": sorted(actor.roles)}


def app_with(settings: ServiceSettings | None = None) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    # Literal rules, as a generated api_handler.py writes them (the annotations are
    # strings here, evaluated in this module's namespace).
    @app.get("/open")
    async def open_route(actor: Annotated[Actor, access.rule("public")]) -> dict[str, Any]:
        return await described(actor)

    @app.get("/in")
    async def signed_in(actor: Annotated[Actor, access.rule("authenticated")]) -> dict[str, Any]:
        return await described(actor)

    @app.get("/admin")
    async def admin(actor: Annotated[Actor, access.rule("role:admin")]) -> dict[str, Any]:
        return await described(actor)

    if access.needs_tokens(app):
        app.state.hexforge_verifier = access.verifier_from(
            settings
            or ServiceSettings(
                auth_issuer=ISSUER,
                auth_audience=AUDIENCE,
                auth_hs256_secret=SECRET,  # type: ignore[arg-type]
            )
        )
    return app


def test_each_rule_answers_as_declared_and_says_so_in_openapi() -> None:
    app = app_with()

    def get(path: str, token: str | None = None) -> Answer:
        return asgi_get(app, path, token=token)

    assert get("/open").json() == {"subject": None, "roles": []}
    assert get("/open", "garbage").status_code == 200  # public never reads a token
    missing = get("/in")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"
    expired = get("/in", hs256(exp=int(time.time()) - 120))
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert expired.json()["detail"] == "invalid token: Signature has expired"
    assert get("/in", hs256()).json() == {"subject": "ann", "roles": []}
    forbidden = get("/admin", hs256(roles=["clerk"]))
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == "this operation needs the role admin"
    assert get("/admin", hs256(roles=["admin"])).status_code == 200

    document = get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "security" not in document["paths"]["/open"]["get"]
    for path in ("/in", "/admin"):
        assert document["paths"][path]["get"]["security"] == [{"HTTPBearer": []}]


def test_a_service_that_needs_tokens_refuses_to_start_without_a_way_to_verify_them() -> None:
    with pytest.raises(SettingsError) as refused:
        app_with(ServiceSettings(auth_issuer=ISSUER))

    assert str(refused.value) == (
        "invalid settings: AUTH_AUDIENCE, exactly one of AUTH_JWKS_URL and AUTH_HS256_SECRET "
        "required: routes of this service need bearer tokens (auth=jwt)"
    )


def test_a_short_secret_is_refused_without_repeating_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from hexforge.service.settings import load

    monkeypatch.setenv("AUTH_HS256_SECRET", "hunter2")
    with pytest.raises(SettingsError) as refused:
        load(ServiceSettings)

    assert "hunter2" not in str(refused.value)
    assert str(refused.value).startswith("invalid settings: AUTH_HS256_SECRET='***': ")


def test_public_routes_alone_need_no_verifier() -> None:
    app = FastAPI()

    @app.get("/open")
    async def route(actor: Annotated[Actor, access.rule("public")]) -> bool:
        return actor == ANONYMOUS

    assert not access.needs_tokens(app)


# -- hexforge token ---------------------------------------------------------------------


def test_hexforge_token_mints_what_the_service_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from hexforge import token

    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in (("ISSUER", ISSUER), ("AUDIENCE", AUDIENCE), ("HS256_SECRET", SECRET)):
        monkeypatch.setenv(f"AUTH_{name}", value)

    assert token.main(["--role", "admin", "--role", "clerk", "--subject", "ann"]) == 0

    minted = capsys.readouterr().out.strip()
    assert verify(shared(), minted) == Actor(subject="ann", roles=frozenset({"admin", "clerk"}))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--minutes", "0"], "--minutes 0: from 1 to 1440"),
        (["--role", "a-b"], "--role 'a-b': role name 'a-b'"),
        (["--subject", " "], "--subject must not be empty"),
        (["--nope"], "unrecognized arguments: --nope"),
        ([], "set AUTH_HS256_SECRET, AUTH_ISSUER and AUTH_AUDIENCE"),
    ],
)
def test_hexforge_token_exits_2_with_one_line_on_bad_arguments_or_settings(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
    arguments: list[str],
    message: str,
) -> None:
    from hexforge import token

    monkeypatch.chdir(tmp_path)
    for name in ("ISSUER", "AUDIENCE", "HS256_SECRET", "JWKS_URL"):
        monkeypatch.delenv(f"AUTH_{name}", raising=False)

    assert token.main(arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("hexforge token: error: ") and message in error, error
    assert error.count("\n") == 1


@given(st.text(min_size=32, max_size=64))
def test_the_test_issuer_s_refused_tokens_are_refused_whatever_its_secret(secret: str) -> None:
    issuer = access.TestIssuer(secret=secret)
    verifier = issuer.verifier()

    assert verify(verifier, issuer.token("a")).roles == frozenset({"a"})
    for kind, token in issuer.refused().items():
        with pytest.raises(access.Unauthorized):
            verify(verifier, token)
        assert kind
