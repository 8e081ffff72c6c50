"""Who is calling: the authenticated principal a request carries once its bearer token is validated."""

from dataclasses import dataclass
from typing import Literal

AuthType = Literal["user", "service_account"]


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str  # the token's `sub`
    username: str  # `preferred_username` (service accounts: service-account-<client>)
    authtype: AuthType
    roles: frozenset[str]
    cliente_id: int | None = None  # set for customers (role `cliente`) only
