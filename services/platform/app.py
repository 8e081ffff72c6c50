"""create_base_app: the FastAPI app every service starts from (CORS, error mapping, no 500 for input)."""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import Lifespan

from services.platform.errors import DomainError, Invalid

log = logging.getLogger(__name__)


def create_base_app(
    *,
    title: str,
    version: str,
    cors_origins: Sequence[str],
    lifespan: Lifespan[Any] | None = None,
    description: str = "",
) -> FastAPI:
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    # The original SPA calls every port directly; credentials are never allowed with "*".
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(cors_origins),
        allow_credentials=False,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Total-Count", "Location", "X-View-Lag", "X-View-Offsets"],
    )

    @app.exception_handler(Invalid)
    async def _invalid(_: Request, exc: Invalid) -> JSONResponse:
        return JSONResponse(
            {"detail": [{"loc": ["body", exc.field], "msg": exc.detail, "type": "value_error"}]}, status_code=422
        )

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's 422 shape, minus the raw input (may be huge or binary) and ctx objects
        # that are not JSON-serializable (a Decimal or an exception inside ctx would 500).
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    return app
