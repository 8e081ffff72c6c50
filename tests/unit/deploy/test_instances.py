"""perfil and the lake sink run as two instances each, in both layouts: the supervised programs, the balancer in
front of perfil, the health and metrics targets, and docker-compose agree on names and ports."""

import configparser
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def programs(conf: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser(strict=False)
    parser.read(ROOT / "infra/supervisor.d" / conf)
    return {s.split(":", 1)[1]: dict(parser[s]) for s in parser.sections() if s.startswith("program:")}


def environment(program: dict[str, str]) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', program.get("environment", "")))


def listed(path: str) -> dict[str, str]:
    lines = (ROOT / path).read_text().splitlines()
    return dict(line.split(None, 1) for line in lines if line.strip() and not line.startswith("#"))


def backend(cfg: str, name: str) -> list[str]:
    """The `server` addresses of an HAProxy backend."""
    text = (ROOT / cfg).read_text()
    section = re.search(rf"^backend {name}\n(.*?)(?=^\S|\Z)", text, flags=re.M | re.S)
    assert section, f"no backend {name} in {cfg}"
    return re.findall(r"^\s+server \S+ (\S+)", section.group(1), flags=re.M)


def test_perfil_son_dos_instancias_detras_del_balanceador_en_6000() -> None:
    perfil = programs("perfil.conf")
    assert set(perfil) == {"perfil-1", "perfil-2"}
    ports = {name: re.search(r"--port (\d+)", p["command"]).group(1) for name, p in perfil.items()}  # type: ignore[union-attr]
    assert ports == {"perfil-1": "6010", "perfil-2": "6011"}
    assert {name: environment(p)["PERFIL_INSTANCE"] for name, p in perfil.items()} == {n: n for n in perfil}
    assert backend("infra/haproxy.cfg", "perfil") == ["127.0.0.1:6010", "127.0.0.1:6011"]
    assert "bind 127.0.0.1:6000" in (ROOT / "infra/haproxy.cfg").read_text()
    health = listed("infra/health-urls.txt")
    metrics = listed("infra/metrics-targets.txt")
    for name, port in ports.items():
        assert health[name] == f"http://127.0.0.1:{port}/health"
        assert metrics[name] == f"http://127.0.0.1:{port}/metrics"


def test_el_sumidero_son_dos_instancias_con_su_nombre_y_su_puerto_de_metricas() -> None:
    lake = programs("lake.conf")
    assert set(lake) == {"lake-1", "lake-2"}
    env = {name: environment(p) for name, p in lake.items()}
    assert {n: e["LAKE_INSTANCE"] for n, e in env.items()} == {"lake-1": "lake-1", "lake-2": "lake-2"}
    assert {n: e["LAKE_METRICS_PORT"] for n, e in env.items()} == {"lake-1": "9464", "lake-2": "9465"}
    metrics = listed("infra/metrics-targets.txt")
    for name, e in env.items():
        assert metrics[name] == f"http://127.0.0.1:{e['LAKE_METRICS_PORT']}/metrics"


def test_compose_corre_los_mismos_pares() -> None:
    for name in ("perfil-1", "perfil-2"):
        assert COMPOSE[name]["environment"]["PERFIL_INSTANCE"] == name
    for name in ("lake-1", "lake-2"):
        assert COMPOSE[name]["environment"]["LAKE_INSTANCE"] == name
        assert COMPOSE[name]["command"] == ["lake", "sink"]
    assert backend("infra/compose/haproxy.cfg", "perfil") == ["perfil-1:6000", "perfil-2:6000"]
    balancer = COMPOSE["cuentas-lb"]
    assert "${BIND_ADDRESS:-127.0.0.1}:6000:6000" in balancer["ports"]
    # The gateway's upstream `perfil:6000` is the balancer.
    assert "perfil" in balancer["networks"]["default"]["aliases"]
    assert "server perfil:6000" in (ROOT / "infra/compose/nginx.conf").read_text()
    targets = COMPOSE["clientes"]["environment"]["ANALYTICS_METRICS_TARGETS"]
    for name in ("perfil-1", "perfil-2", "lake-1", "lake-2"):
        assert f"{name}=http://{name}:" in targets
