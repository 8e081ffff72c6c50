"""Where the seed sends its requests and how many records it aims for (no heavy imports: the CLI loads it)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Urls:
    clientes: str = "http://127.0.0.1:8001"
    cuentas: str = "http://127.0.0.1:8002"
    transacciones: str = "http://127.0.0.1:8004"


@dataclass(frozen=True)
class Targets:
    clientes: int = 20_000
    cuentas: int = 20_000
    transacciones: int = 20_000
