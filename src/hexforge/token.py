"""``hexforge token``: a bearer token for a service of this project, for local runs.

    hexforge token [--role NAME]... [--subject SUB] [--minutes N]

Signed HS256 with the service's ``AUTH_HS256_SECRET`` for its ``AUTH_ISSUER`` and
``AUTH_AUDIENCE``, read as the service reads them (the environment, then ``.env``):
the token the service accepts, to paste into a ``.http`` file or a curl command.
A service that takes its keys from a JWKS (``AUTH_JWKS_URL``) trusts its identity
provider's tokens only: ask the provider. Exit 2 on bad arguments or settings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from hexforge.core import ArgumentParser, UsageError, cli

MAX_MINUTES = 24 * 60


def run(argv: Sequence[str] | None) -> int:
    parser = ArgumentParser(prog="hexforge token", description=__doc__.splitlines()[0])
    parser.add_argument("--role", action="append", default=[], help="a role the token holds")
    parser.add_argument("--subject", default="developer", help="the token's sub (who acts)")
    parser.add_argument("--minutes", type=int, default=60, help="how long it is valid")
    args = parser.parse_args(argv)
    if not 1 <= args.minutes <= MAX_MINUTES:
        raise UsageError(f"--minutes {args.minutes}: from 1 to {MAX_MINUTES}")
    if not args.subject.strip():
        raise UsageError("--subject must not be empty")
    # Imported here: the other subcommands need none of the service's dependencies.
    from hexforge.access import AccessError, parse_rule
    from hexforge.service.access import TestIssuer
    from hexforge.service.settings import ServiceSettings, SettingsError, load

    for role in args.role:
        try:
            parse_rule(f"role:{role}")
        except AccessError as error:
            raise UsageError(f"--role {role!r}: {error}") from None
    try:
        settings = load(ServiceSettings)
    except SettingsError as error:
        raise UsageError(str(error)) from None
    secret = settings.auth_hs256_secret
    if secret is None or not settings.auth_issuer or not settings.auth_audience:
        raise UsageError(
            "set AUTH_HS256_SECRET, AUTH_ISSUER and AUTH_AUDIENCE as the service has them "
            "(a service on AUTH_JWKS_URL takes its identity provider's tokens only)"
        )
    issuer = TestIssuer(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        secret=secret.get_secret_value(),
    )
    expiry = int(time.time()) + args.minutes * 60
    print(issuer.token(*args.role, sub=args.subject.strip(), exp=expiry))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="hexforge token")
