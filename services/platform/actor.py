"""Who makes a change: the request's principal as the CloudEvents authcontext its events and records carry."""

from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import AuthContext
from services.platform.principal import Principal

# A request no bearer token vouched for (the authcontext extension's own word for it).
UNAUTHENTICATED = AuthContext(authtype="unauthenticated")


def actor_of(principal: Principal | None) -> AuthContext:
    """The authcontext of a principal: its kind and its username; `unauthenticated` without one."""
    if principal is None:
        return UNAUTHENTICATED
    return AuthContext(authtype=principal.authtype, authid=principal.username)


async def _request_actor(request: Request) -> AuthContext:
    # async so FastAPI calls it inline (no worker-thread hop). The principal is put on request.state by the
    # token validation; a route it does not guard (or a stack without it) has none.
    principal: Principal | None = getattr(request.state, "principal", None)
    return actor_of(principal)


ActorDep = Annotated[AuthContext, Depends(_request_actor)]


class ActorPublic(BaseModel):
    """Who made a change, as the REST answers show it (null on records older than this field)."""

    model_config = ConfigDict(from_attributes=True)  # read straight off an AuthContext inside a domain record

    authtype: str = Field(examples=["user"], description="user, service_account or unauthenticated")
    authid: str | None = Field(None, examples=["cajero"], description="the principal's username")

    @classmethod
    def of(cls, actor: AuthContext | None) -> "ActorPublic | None":
        return None if actor is None else cls(authtype=actor.authtype, authid=actor.authid)
