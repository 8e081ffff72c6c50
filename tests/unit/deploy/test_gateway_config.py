"""The web gateway's nginx configuration, native and docker-compose, passes `nginx -t` (syntax, every include,
every upstream), and its login is wired as documented: /api behind auth_request, the health routes public."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GATEWAY = ROOT / "infra" / "web-gateway"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_t(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NGINX, "-t", "-q", "-p", f"{prefix}/", "-c", str(conf), "-g", "pid nginx.pid; error_log stderr;"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_native_configuration_is_valid(tmp_path: Path) -> None:
    for d in (".run/web-gateway", ".run/logs", "web/dist"):
        (tmp_path / d).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    # The original sets pid/error_log itself; -g cannot repeat them, so the copy drops those two lines.
    text = re.sub(r"^(pid|error_log) .*$", "", (GATEWAY / "nginx.conf").read_text(), flags=re.M)
    conf.write_text(text)
    for name in ("gateway.conf", "security-headers.conf", "upstreams.conf"):
        shutil.copy(GATEWAY / name, tmp_path / name)
    result = nginx_t(conf, tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_compose_configuration_is_valid(tmp_path: Path) -> None:
    # As in the nginx image: conf.d/default.conf inside http, gateway.conf next to nginx.conf. Container hostnames
    # do not resolve here, so the upstreams point at 127.0.0.1 (nginx -t resolves them).
    (tmp_path / "conf.d").mkdir()
    default = (ROOT / "infra/compose/nginx.conf").read_text()
    (tmp_path / "conf.d/default.conf").write_text(re.sub(r"server [a-z0-9-]+:(\d+)", r"server 127.0.0.1:\1", default))
    for name in ("gateway.conf", "security-headers.conf"):
        shutil.copy(GATEWAY / name, tmp_path / name)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "events {}\nhttp {\n include /etc/nginx/mime.types;\n"
        f" client_body_temp_path {tmp_path}/cb; proxy_temp_path {tmp_path}/px;\n"
        f" fastcgi_temp_path {tmp_path}/fc; uwsgi_temp_path {tmp_path}/uw; scgi_temp_path {tmp_path}/sc;\n"
        f" access_log off;\n include {tmp_path}/conf.d/default.conf;\n}}\n"
    )
    result = nginx_t(conf, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "route",
    ["location = /api/clientes", "location /api/cuentas/", "location /api/perfil/", "location /api/analytics/"],
)
def test_every_service_route_sits_inside_the_authenticated_api_block(route: str) -> None:
    text = (GATEWAY / "gateway.conf").read_text()
    block = text[text.index("location /api/ {") : text.index("# --- the console")]
    assert "auth_request /oauth2/auth;" in block
    assert "proxy_set_header Authorization $cb_authorization;" in block
    assert route in block


def test_health_and_the_login_stay_outside_it() -> None:
    text = (GATEWAY / "gateway.conf").read_text()
    api = text.index("location /api/ {")
    for public in ("location = /health {", "location /oauth2/ {", "location = /api/health/clientes"):
        assert text.index(public) < api, public
