#!/usr/bin/env python3
"""Health probes for the local stack (stdlib only, so they work before any virtualenv exists).

Usage: probe.py kafka HOST:PORT | mongo HOST:PORT | http URL | tcp HOST:PORT | port-free PORT...
                | keycloak BASE_URL MANAGEMENT_URL   (ready, and realm cloudbank served with its issuer)
                | sv-status SOCKET   (supervisord processes as "group:name STATE pid"; ~10x faster than supervisorctl)
Exit 0 when healthy (prints a short detail), 1 otherwise (prints why).
Run it with `python -I -S`: only the stdlib is used, and skipping site-packages makes each call cheap.
"""

from __future__ import annotations

import socket
import struct
import sys

TIMEOUT = 2.0


def _addr(hostport: str) -> tuple[str, int]:
    host, _, port = hostport.rpartition(":")
    return host or "127.0.0.1", int(port)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by peer")
        buf += chunk
    return buf


# --- Kafka: ApiVersions, then Metadata (are a controller and a registered broker there?) -------------------

def _kafka_call(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client_id = b"cloudbank-probe"
    header = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id
    sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
    size = struct.unpack(">i", _recv_exact(sock, 4))[0]
    payload = _recv_exact(sock, size)
    if struct.unpack(">i", payload[:4])[0] != corr:
        raise ValueError("correlation id mismatch")
    return payload[4:]  # response header v0 is just the correlation id for the versions used here


def probe_kafka(hostport: str) -> str:
    with socket.create_connection(_addr(hostport), timeout=TIMEOUT) as sock:
        # ApiVersions v0 is kept by every broker version so that clients can negotiate.
        resp = _kafka_call(sock, 18, 0, 1, b"")
        error, count = struct.unpack(">hi", resp[:6])
        if error:
            raise ValueError(f"ApiVersions error code {error}")
        versions = {}
        for i in range(count):
            key, lo, hi = struct.unpack(">hhh", resp[6 + 6 * i: 12 + 6 * i])
            versions[key] = (lo, hi)
        lo, hi = versions.get(3, (0, -1))
        version = min(hi, 8)  # v4..v8 are the non-flexible versions parsed below
        if version < max(lo, 4):
            return f"api-versions ok ({count} APIs)"
        body = struct.pack(">ib", 0, 0)  # no topics, no auto-creation
        if version >= 8:
            body += struct.pack(">bb", 0, 0)
        resp = _kafka_call(sock, 3, version, 2, body)
        pos = 4  # throttle_time_ms
        (nbrokers,) = struct.unpack(">i", resp[pos:pos + 4])
        pos += 4
        for _ in range(nbrokers):
            pos += 4  # node_id
            (hlen,) = struct.unpack(">h", resp[pos:pos + 2])
            pos += 2 + hlen + 4  # host, port
            (rlen,) = struct.unpack(">h", resp[pos:pos + 2])
            pos += 2 + max(rlen, 0)  # rack (nullable)
        (clen,) = struct.unpack(">h", resp[pos:pos + 2])
        cluster = resp[pos + 2:pos + 2 + clen].decode() if clen >= 0 else None
        pos += 2 + max(clen, 0)
        (controller,) = struct.unpack(">i", resp[pos:pos + 4])
        if nbrokers < 1 or controller < 0:
            raise ValueError(f"not ready: brokers={nbrokers} controller={controller}")
        return f"cluster={cluster} brokers={nbrokers} controller={controller}"


# --- MongoDB wire protocol (FerretDB): OP_MSG {ping: 1} -----------------------------------------------------

def _bson_ping() -> bytes:
    elems = b"\x10ping\x00" + struct.pack("<i", 1)
    db = b"admin\x00"
    elems += b"\x02$db\x00" + struct.pack("<i", len(db)) + db
    return struct.pack("<i", 4 + len(elems) + 1) + elems + b"\x00"


def _bson_ok(doc: bytes) -> float | None:
    """Value of the top-level numeric 'ok' field (skipping the few element types a ping reply can hold)."""
    fixed = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}
    pos = 4
    while pos < len(doc) - 1:
        etype = doc[pos]
        end = doc.index(b"\x00", pos + 1)
        name = doc[pos + 1:end].decode()
        pos = end + 1
        if name == "ok":
            if etype == 0x01:
                return struct.unpack("<d", doc[pos:pos + 8])[0]
            if etype == 0x10:
                return float(struct.unpack("<i", doc[pos:pos + 4])[0])
            if etype == 0x12:
                return float(struct.unpack("<q", doc[pos:pos + 8])[0])
        if etype in fixed:
            pos += fixed[etype]
        elif etype in (0x02, 0x0D, 0x0E):  # string-like: int32 length + bytes
            pos += 4 + struct.unpack("<i", doc[pos:pos + 4])[0]
        elif etype in (0x03, 0x04):  # embedded document / array: int32 total length
            pos += struct.unpack("<i", doc[pos:pos + 4])[0]
        elif etype == 0x05:  # binary: int32 length + subtype + bytes
            pos += 5 + struct.unpack("<i", doc[pos:pos + 4])[0]
        else:
            return None
    return None


def probe_mongo(hostport: str) -> str:
    with socket.create_connection(_addr(hostport), timeout=TIMEOUT) as sock:
        body = struct.pack("<I", 0) + b"\x00" + _bson_ping()
        sock.sendall(struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body)
        length, _req, _resp_to, opcode = struct.unpack("<iiii", _recv_exact(sock, 16))
        payload = _recv_exact(sock, length - 16)
        if opcode != 2013 or payload[4] != 0:
            raise ValueError(f"unexpected reply opcode={opcode}")
        ok = _bson_ok(payload[5:])
        if ok != 1.0:
            raise ValueError(f"ping answered ok={ok}")
        return "ping ok"


# --- Plain checks ---------------------------------------------------------------------------------------------

def probe_http(url: str) -> str:
    import urllib.error  # imported here: urllib pulls in ssl/email, slow for the other probes
    import urllib.request

    try:
        # A /health checks its databases and Kafka: give it more time than a bare protocol ping on a busy box.
        with urllib.request.urlopen(url, timeout=2.5 * TIMEOUT) as resp:
            return f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:  # 503 from a /health that found a dependency down
        raise ValueError(f"HTTP {exc.code}") from None


def probe_keycloak(base_url: str, management_url: str) -> str:
    """Ready on the management port, and the realm `cloudbank` imported (its discovery document names its issuer)."""
    import json
    import urllib.request

    probe_http(f"{management_url}/health/ready")
    with urllib.request.urlopen(f"{base_url}/realms/cloudbank/.well-known/openid-configuration",
                                timeout=2.5 * TIMEOUT) as resp:
        issuer = json.load(resp)["issuer"]
    return f"ready, issuer {issuer}"


def probe_tcp(hostport: str) -> str:
    with socket.create_connection(_addr(hostport), timeout=TIMEOUT):
        return "accepting connections"


def ports_free(*ports: str) -> str:
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", int(port)))
            except OSError:
                busy.append(port)
    if busy:
        raise ValueError("in use: " + " ".join(busy))
    return "free"


def sv_status(sock_path: str) -> str:
    """supervisord's getAllProcessInfo over its unix socket (XML-RPC), one process per line."""
    import http.client
    import xmlrpc.client

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(TIMEOUT)
            self.sock.connect(sock_path)

    class UnixTransport(xmlrpc.client.Transport):
        def make_connection(self, host):  # noqa: ANN001 - xmlrpc API
            return UnixConnection("localhost")

    proxy = xmlrpc.client.ServerProxy("http://localhost", transport=UnixTransport())
    lines = []
    for info in proxy.supervisor.getAllProcessInfo():
        name = info["name"] if info["group"] == info["name"] else f"{info['group']}:{info['name']}"
        lines.append(f"{name} {info['statename']} {info['pid'] or '-'}")
    return "\n".join(lines)


PROBES = {"kafka": probe_kafka, "mongo": probe_mongo, "http": probe_http, "tcp": probe_tcp, "port-free": ports_free,
          "sv-status": sv_status, "keycloak": probe_keycloak}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in PROBES:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        print(PROBES[argv[0]](*argv[1:]))
        return 0
    except Exception as exc:  # any failure is simply "unhealthy", with the reason
        print(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
