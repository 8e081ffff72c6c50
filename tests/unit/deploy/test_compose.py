"""docker-compose.yml runs the same system as `make up`: it parses, every reference resolves, and every
program the native stack supervises has its counterpart; docker-compose.cluster.yml (Kafka as 3 brokers, like
KAFKA_BROKERS=3) merged over it keeps all of that true."""

import configparser
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from bank.cli import app
from contracts import brokers

ROOT = Path(__file__).resolve().parents[3]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
CLUSTER_OVERLAY: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.cluster.yml").read_text())


def merged(base: Any, overlay: Any) -> Any:
    """What `docker compose -f base -f overlay` runs, for what these tests read: mappings merge key by key,
    anything else the overlay sets replaces the base's."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        return {k: merged(base[k], v) if k in base else v for k, v in overlay.items()} | {
            k: v for k, v in base.items() if k not in overlay
        }
    return overlay


CLUSTER: dict[str, Any] = merged(COMPOSE, CLUSTER_OVERLAY)
# Both ways to run it: the generic checks below apply to each.
FILES = pytest.mark.parametrize("services", [SERVICES, CLUSTER["services"]], ids=["compose", "compose+cluster"])
BROKERS = ("kafka", "kafka-2", "kafka-3")

# Native program (infra/supervisord.conf + infra/supervisor.d) -> compose service.
NATIVE_TO_COMPOSE = {
    "postgres": "postgres",
    "mariadb": "mysql",
    "kafka": "kafka",
    "ferretdb": "mongo",
    "haproxy": "cuentas-lb",
    "web-gateway": "web",
}
OFFICIAL_IMAGES = {
    "kafka": "apache/kafka:",
    "postgres": "postgres:15",
    "mysql": "mysql:8",
    "mongo": "mongo:7",
    "oauth2-proxy": "quay.io/oauth2-proxy/oauth2-proxy:v7.15.",  # its -alpine variant: a shell for the healthcheck
    "keycloak": "quay.io/keycloak/keycloak:",
    "jaeger": "jaegertracing/all-in-one:",
}


def native_programs() -> set[str]:
    names = set()
    for path in [ROOT / "infra/supervisord.conf", *sorted((ROOT / "infra/supervisor.d").glob("*.conf"))]:
        parser = configparser.RawConfigParser(strict=False)
        parser.read(path)
        names |= {s.split(":", 1)[1] for s in parser.sections() if s.startswith("program:")}
    return names


def test_cada_programa_nativo_tiene_su_servicio_en_compose() -> None:
    # Brokers 2 and 3 run only in cluster mode, natively (KAFKA_BROKERS=3) and in compose (the overlay).
    missing = {p for p in native_programs() - set(BROKERS) if NATIVE_TO_COMPOSE.get(p, p) not in SERVICES}
    assert not missing, f"in make up but not in docker-compose.yml: {sorted(missing)}"
    assert set(BROKERS) <= native_programs()
    assert set(BROKERS) <= set(CLUSTER_OVERLAY["services"]), "docker-compose.cluster.yml lacks a broker"


@pytest.mark.parametrize(("service", "image"), OFFICIAL_IMAGES.items())
def test_la_infraestructura_usa_las_imagenes_oficiales(service: str, image: str) -> None:
    assert SERVICES[service]["image"].startswith(image)


@FILES
def test_las_dependencias_nombran_servicios_que_existen(services: dict[str, Any]) -> None:
    for name, spec in services.items():
        deps = spec.get("depends_on", [])
        for dep in deps if isinstance(deps, list) else deps.keys():
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_los_targets_del_dockerfile_existen() -> None:
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), flags=re.M))
    for name, spec in SERVICES.items():
        if "build" in spec:
            assert spec["build"]["target"] in targets, name


def test_los_comandos_son_subcomandos_reales_de_bank() -> None:
    cli = get_command(app)
    known = set(cli.commands)  # type: ignore[attr-defined]
    for name, spec in SERVICES.items():
        if spec.get("build", {}).get("target") == "app":
            assert spec["command"][0] in known, f"{name}: bank {spec['command'][0]} does not exist"


def test_los_archivos_montados_existen() -> None:
    for name, spec in SERVICES.items():
        for volume in spec.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_el_gateway_comparte_las_rutas_y_el_login_del_stack_nativo() -> None:
    # One set of routes (gateway.conf) and one oauth2-proxy configuration for both ways of running the system.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY infra/web-gateway/gateway.conf infra/web-gateway/security-headers.conf /etc/nginx/" in dockerfile
    assert "include gateway.conf;" in (ROOT / "infra/compose/nginx.conf").read_text()
    assert "include gateway.conf;" in (ROOT / "infra/web-gateway/nginx.conf").read_text()
    proxy = SERVICES["oauth2-proxy"]
    assert "./infra/web-gateway/oauth2-proxy.cfg:/etc/oauth2-proxy/oauth2-proxy.cfg:ro" in proxy["volumes"]
    assert proxy["command"] == ["--config", "/etc/oauth2-proxy/oauth2-proxy.cfg"]
    assert "oauth2-proxy" in SERVICES["web"]["depends_on"]
    # The browser and oauth2-proxy must agree on the realm's issuer with the native stack.
    env = proxy["environment"]
    assert env["OAUTH2_PROXY_OIDC_ISSUER_URL"] == "http://127.0.0.1:8180/realms/cloudbank"
    assert env["OAUTH2_PROXY_LOGIN_URL"].startswith("http://127.0.0.1:8180/realms/cloudbank/")  # the browser's
    for key in ("REDEEM_URL", "OIDC_JWKS_URL", "PROFILE_URL", "BACKEND_LOGOUT_URL"):  # oauth2-proxy's own calls
        assert env[f"OAUTH2_PROXY_{key}"].startswith("http://keycloak:8080/realms/cloudbank/"), key


def test_keycloak_es_la_misma_version_con_el_mismo_realm() -> None:
    pom = (ROOT / "infra/keycloak/pom.xml").read_text()
    version = re.search(r"<keycloak.version>(.+)</keycloak.version>", pom)
    assert version is not None
    spec = SERVICES["keycloak"]
    assert spec["image"] == f"quay.io/keycloak/keycloak:{version.group(1)}"
    assert "./infra/keycloak/cloudbank-realm.json:/opt/keycloak/data/import/cloudbank-realm.json:ro" in spec["volumes"]
    assert "--import-realm" in spec["command"]
    # The issuer every token names: the same as the native stack's (infra/bin/keycloak.sh).
    assert "--hostname=http://127.0.0.1:8180" in spec["command"]
    assert "${BIND_ADDRESS:-127.0.0.1}:8180:8080" in spec["ports"]


def test_cada_servicio_nuestro_sabe_donde_validar_tokens() -> None:
    for name, spec in SERVICES.items():
        if spec.get("build", {}).get("target") == "app":
            env = spec["environment"]
            assert env["AUTH_ISSUER"] == "http://127.0.0.1:8180/realms/cloudbank", name
            assert env["AUTH_JWKS_URL"].startswith("http://keycloak:8080/realms/cloudbank/"), name
            assert env["AUTH_TOKEN_URL"].startswith("http://keycloak:8080/realms/cloudbank/"), name


def _one_shot(spec: dict[str, Any]) -> bool:
    """A job that runs to its end (topic creation, the seed), not a service that stays up."""
    return spec.get("restart") == "no"


def test_el_log_de_kafka_vive_en_el_volumen_montado() -> None:
    kafka = SERVICES["kafka"]
    log_dirs = kafka["environment"]["KAFKA_LOG_DIRS"].split(",")
    mounted = {v.split(":")[1] for v in kafka["volumes"] if v.split(":")[0] in COMPOSE["volumes"]}
    assert log_dirs
    assert set(log_dirs) <= mounted, f"KAFKA_LOG_DIRS {log_dirs} not on a named volume ({sorted(mounted)})"


@FILES
def test_cada_servicio_que_queda_arriba_tiene_healthcheck(services: dict[str, Any]) -> None:
    missing = [n for n, spec in services.items() if not _one_shot(spec) and not spec.get("healthcheck", {}).get("test")]
    assert not missing, f"no healthcheck: {missing}"


@FILES
def test_se_espera_a_que_cada_dependencia_este_sana(services: dict[str, Any]) -> None:
    for name, spec in services.items():
        deps = spec.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on as a list only waits for the start"
        for dep, how in deps.items():
            wanted = "service_completed_successfully" if _one_shot(services[dep]) else "service_healthy"
            assert how == {"condition": wanted}, f"{name} -> {dep}: {how}"


@FILES
def test_los_puertos_publicados_escuchan_solo_en_loopback_salvo_que_se_pida(services: dict[str, Any]) -> None:
    for name, spec in services.items():
        for port in spec.get("ports", []):
            assert isinstance(port, str), f"{name}: {port!r}"
            assert re.fullmatch(r"\$\{BIND_ADDRESS:-127\.0\.0\.1\}:\d+:\d+", port), f"{name} publishes {port}"


def test_los_servicios_envian_sus_trazas_a_jaeger() -> None:
    env = SERVICES["transacciones-1"]["environment"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"  # Jaeger's OTLP/HTTP receiver


def test_el_cluster_son_tres_brokers_oficiales_con_su_log_en_su_volumen() -> None:
    services = CLUSTER["services"]
    mounts = set()
    for n, name in enumerate(BROKERS, start=1):
        spec = services[name]
        env = spec["environment"]
        assert spec["image"] == SERVICES["kafka"]["image"], name  # one version for the three
        assert env["KAFKA_NODE_ID"] == n
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"
        assert env["CLUSTER_ID"] == services["kafka"]["environment"]["CLUSTER_ID"]
        volume, path = spec["volumes"][0].split(":")
        assert volume in CLUSTER["volumes"], name
        assert path in env["KAFKA_LOG_DIRS"].split(","), name
        mounts.add(volume)
    assert len(mounts) == 3, "each broker needs its own log volume"


def test_el_cluster_replica_como_contracts_brokers() -> None:
    for name in BROKERS:
        env = CLUSTER["services"][name]["environment"]
        for key in (
            "DEFAULT_REPLICATION_FACTOR",
            "OFFSETS_TOPIC_REPLICATION_FACTOR",
            "TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        ):
            assert env[f"KAFKA_{key}"] == brokers.CLUSTER.factor, (name, key)
        for key in ("MIN_INSYNC_REPLICAS", "TRANSACTION_STATE_LOG_MIN_ISR"):
            assert env[f"KAFKA_{key}"] == brokers.CLUSTER.min_insync, (name, key)


def test_con_el_cluster_cada_servicio_nuestro_conoce_los_tres_brokers() -> None:
    every = "kafka:9092,kafka-2:9092,kafka-3:9092"
    for name, spec in CLUSTER["services"].items():
        if spec.get("build", {}).get("target") != "app":
            continue
        env = spec["environment"]
        bootstraps = {k: v for k, v in env.items() if k.endswith("KAFKA_BOOTSTRAP")}
        assert bootstraps, name
        assert set(bootstraps.values()) == {every}, f"{name} misses a broker: {bootstraps}"
        # `bank topics create` (and anything deriving replication) must know it is a cluster.
        assert brokers.replication({"KAFKA_BROKERS": env["KAFKA_BROKERS"]}) == brokers.CLUSTER, name
    assert {"kafka-2", "kafka-3"} <= set(CLUSTER["services"]["topics"]["depends_on"])
