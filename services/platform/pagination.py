"""List pagination as the REST contract wants it: skip/limit query params and an X-Total-Count header."""

from typing import Annotated

from fastapi import Depends, Query, Response
from pydantic import BaseModel


class Page(BaseModel):
    skip: int
    limit: int


async def _page(
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> Page:
    # async so FastAPI calls it inline: a plain `def` dependency costs a worker-thread hop per request.
    return Page(skip=skip, limit=limit)


PageDep = Annotated[Page, Depends(_page)]


def set_total(response: Response, total: int) -> None:
    response.headers["X-Total-Count"] = str(total)
