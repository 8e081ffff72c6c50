"""Swagger UI (/docs, with Keycloak's Authorize) and ReDoc (/redoc) from assets each service serves itself: a bank
network is not the internet, and FastAPI's own pages load their scripts from a public CDN (blank pages offline).

The assets are the swagger-ui-dist and redoc bundles shipped by the fastapi-offline package (a dependency, so the
Docker image has them too); only the three pages, the OAuth2 redirect and these files are public (services.platform.guard).
"""

from importlib.resources import files
from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

DOCS: Final = "/docs"
REDOC: Final = "/redoc"
OAUTH2_REDIRECT: Final = "/docs/oauth2-redirect"  # Keycloak's client cloudbank-swagger allows it on every port
ASSETS: Final = "/docs/assets"
_FILES: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
DOCS_PATHS: Final = frozenset({DOCS, REDOC, OAUTH2_REDIRECT, *(f"{ASSETS}/{name}" for name in _FILES)})

_BUNDLED = files("fastapi_offline") / "static"
# The bundles change only with the package's version: browsers may keep them a day (revalidated by ETag after).
_CACHE = {"Cache-Control": "public, max-age=86400"}


def serve_docs(app: FastAPI) -> None:
    """Adds /docs, its OAuth2 redirect, /redoc and their assets to an app created with docs_url=redoc_url=None.
    Swagger UI's Authorize uses the app's `swagger_ui_init_oauth` (OAuth2 code + PKCE against Keycloak)."""
    for name, media_type in _FILES.items():
        _asset(app, name, media_type)

    def asset(request: Request, name: str) -> str:
        # Behind a proxy that strips a prefix (root_path), the browser must ask under that prefix.
        return f"{request.scope.get('root_path', '')}{ASSETS}/{name}"

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
            init_oauth=app.swagger_ui_init_oauth,
            # validatorUrl null: no badge asking swagger.io's online validator about the document.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()  # inline script only: nothing to fetch

    @app.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset(request, "redoc.standalone.js"),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False,  # the fonts are a CDN too; ReDoc falls back to the system's
        )
        # ReDoc's sidebar shows Redocly's logo from their CDN (hidden when it fails): no request leaves for it.
        page.headers["Content-Security-Policy"] = "img-src 'self' data:"
        return page


def _asset(app: FastAPI, name: str, media_type: str) -> None:
    path = _BUNDLED / name

    async def serve() -> FileResponse:
        return FileResponse(str(path), media_type=media_type, headers=_CACHE)

    app.add_api_route(f"{ASSETS}/{name}", serve, methods=["GET"], include_in_schema=False, name=f"docs-{name}")
