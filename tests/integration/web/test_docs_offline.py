"""Every service's /docs and /redoc in headless Chromium with every request off loopback refused: Swagger UI and ReDoc
render from the service's own assets (blank, SwaggerUIBundle undefined, when a CDN is needed), and Authorize logs in
through Keycloak (code + PKCE) before "Try it out" gets a 200 (web/e2e/docs/docs.spec.ts). Screenshots in
test-artifacts/docs/."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RUN = ROOT / "web" / "e2e" / "run.sh"
SHOTS = ROOT / "test-artifacts" / "docs"
SERVICES = ("clientes", "cuentas", "transacciones", "perfil", "analytics")


@pytest.mark.timeout(1000)
def test_docs_y_redoc_de_cada_servicio_sin_internet_y_authorize_con_keycloak() -> None:
    for old in SHOTS.glob("*.png"):  # a screenshot left by an earlier run proves nothing
        old.unlink()
    env = {**os.environ, "E2E_CONFIG": "e2e/docs.config.ts"}
    # Playwright bounds the run itself (globalTimeout 900 s); this only guards against a hung install.
    proc = subprocess.run(
        ["bash", str(RUN)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=980, check=False
    )
    report = f"{proc.stdout[-8000:]}\n{proc.stderr[-4000:]}\nscreenshots and traces: test-artifacts/docs/"
    assert proc.returncode == 0, report
    expected = {f"{s}-{page}.png" for s in SERVICES for page in ("docs", "redoc")} | {"clientes-docs-authorized.png"}
    assert expected <= {p.name for p in SHOTS.glob("*.png")}, report
