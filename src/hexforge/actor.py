"""Who acts: the principal a request was made by, as the domain sees it.

A plain value of the standard library only, so that a component's domain (its
use-case bodies and invariants) can import it without depending on HTTP, tokens
or anything else installed. The inbound adapter builds it from the request; the
domain only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """A principal: ``subject`` names it (None: nobody signed in), ``roles`` are
    what it was granted."""

    subject: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        """Whether nobody is signed in."""
        return self.subject is None

    def has_role(self, *roles: str) -> bool:
        """Whether the actor holds any of ``roles``."""
        return not self.roles.isdisjoint(roles)


# The actor of a request no token vouches for (and of a service with auth=none).
ANONYMOUS = Actor()
