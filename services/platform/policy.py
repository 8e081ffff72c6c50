"""Who may call what: the role table of every service, written once, route by route (README §Identity).

Each route of each service has a Rule: the staff roles that may call it and how a bank customer (role `cliente`,
token claim `cliente_id`) is confined. `admin` may do everything and `auditor` every GET, in every service. A route
missing from the table is refused to everyone but `admin` (deny by default); a unit test keeps the table complete.

Customer confinement:
- REFUSED    a customer gets 403 (writes of staff, perfil's search)
- ANY        nothing of anyone's: reference data (tipos de cuenta)
- OWN_PATH   the path's `cliente_id` must be the customer's own, else 404 (checked before the route runs)
- CONFINED   the route itself answers only the customer's data (lists filtered, others' ids 404): it reads
             `own_cliente(request)`; transacciones also judges the body (`check_movimiento`)
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated

from fastapi import Depends, Request

from services.platform.errors import DomainError
from services.platform.principal import Principal

ADMIN = "admin"
AUDITOR = "auditor"
CLIENTE = "cliente"
ROLES = frozenset({"cajero", "operaciones", "analista", AUDITOR, ADMIN, CLIENTE})


class Customer(Enum):
    REFUSED = "refused"
    ANY = "any"
    OWN_PATH = "own_path"
    CONFINED = "confined"


class Verdict(Enum):
    ALLOW = "allow"
    FORBIDDEN = "forbidden"  # 403 naming the roles needed
    NOT_FOUND = "not_found"  # a customer asking for someone else's cliente_id: 404, the id is not confirmed


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    customer: Customer = Customer.REFUSED

    def judge(self, principal: Principal, method: str, path_params: Mapping[str, str]) -> Verdict:
        if staff(principal, self.roles, method):
            return Verdict.ALLOW
        if CLIENTE not in principal.roles or principal.cliente_id is None or self.customer is Customer.REFUSED:
            return Verdict.FORBIDDEN
        if self.customer is Customer.OWN_PATH and path_params.get("cliente_id") != str(principal.cliente_id):
            return Verdict.NOT_FOUND
        return Verdict.ALLOW

    def needed(self) -> list[str]:
        """The roles to name in a 403, in the table's order."""
        extra = [CLIENTE] if self.customer is not Customer.REFUSED else []
        return sorted(self.roles | {ADMIN}, key=_ORDER.index) + extra


def staff(principal: Principal, roles: frozenset[str], method: str = "POST") -> bool:
    """A staff caller with one of `roles` (admin always; auditor for every read)."""
    held = principal.roles
    return bool(held & roles) or ADMIN in held or (AUDITOR in held and method in ("GET", "HEAD"))


_ORDER = ["cajero", "operaciones", "analista", AUDITOR, ADMIN, CLIENTE]

# The API-level role table (the README's), as rules.
READ = frozenset({"cajero", "operaciones", AUDITOR})
CAJA = frozenset({"cajero", "operaciones"})  # clientes, accounts, deposits, withdrawals, service payments
OPERACIONES = frozenset({"operaciones"})  # + transfers, account state changes, deletions, cancellations
ANALYTICS = frozenset({"analista", AUDITOR})

READ_CONFINED = Rule(READ, Customer.CONFINED)
READ_OWN_PATH = Rule(READ, Customer.OWN_PATH)


@dataclass(frozen=True)
class ServicePolicy:
    """A service's rules by (METHOD, route path as declared); `default` for routes the table does not list."""

    routes: Mapping[tuple[str, str], Rule]
    default: Rule | None = None

    def rule(self, method: str, path: str) -> Rule:
        found = self.routes.get(("GET" if method == "HEAD" else method, path))
        return found or self.default or Rule(frozenset({ADMIN}))


CLIENTES = ServicePolicy(
    {
        ("GET", "/clientes"): READ_CONFINED,
        ("GET", "/clientes/email/{email}"): READ_CONFINED,
        ("GET", "/clientes/documento/{numero_documento}"): READ_CONFINED,
        ("GET", "/clientes/{cliente_id}"): READ_OWN_PATH,
        ("POST", "/clientes"): Rule(CAJA),
        ("POST", "/clientes/lote"): Rule(CAJA),
        ("PUT", "/clientes/{cliente_id}"): Rule(CAJA),
        ("DELETE", "/clientes/{cliente_id}"): Rule(OPERACIONES),
    }
)

CUENTAS = ServicePolicy(
    {
        ("GET", "/tipos-cuenta"): Rule(READ, Customer.ANY),
        ("GET", "/tipos-cuenta/{tipo_cuenta_id}"): Rule(READ, Customer.ANY),
        ("GET", "/cuentas"): READ_CONFINED,
        ("GET", "/cuentas/cliente/{cliente_id}"): READ_OWN_PATH,
        ("GET", "/cuentas/numero/{numero_cuenta}"): READ_CONFINED,
        ("GET", "/cuentas/{cuenta_id}"): READ_CONFINED,
        ("GET", "/cuentas/{cuenta_id}/movimientos"): READ_CONFINED,
        ("GET", "/cuentas/{cuenta_id}/limites"): READ_CONFINED,
        ("PUT", "/cuentas/{cuenta_id}/limites"): Rule(OPERACIONES),
        ("POST", "/cuentas"): Rule(CAJA),
        ("POST", "/cuentas/lote"): Rule(CAJA),
        ("PATCH", "/cuentas/{cuenta_id}/saldo"): Rule(CAJA),
        ("PUT", "/cuentas/{cuenta_id}/saldo"): Rule(CAJA),
        ("PATCH", "/cuentas/{cuenta_id}/estado"): Rule(OPERACIONES),
        ("DELETE", "/cuentas/{cuenta_id}"): Rule(OPERACIONES),
        ("GET", "/cuentas/{cuenta_id}/retenciones"): READ_CONFINED,
        ("GET", "/cuentas/{cuenta_id}/retenciones/{retencion_id}"): READ_CONFINED,
        ("POST", "/cuentas/{cuenta_id}/retenciones"): Rule(CAJA),
        ("POST", "/cuentas/{cuenta_id}/retenciones/{retencion_id}/captura"): Rule(CAJA),
        ("POST", "/cuentas/{cuenta_id}/retenciones/{retencion_id}/liberacion"): Rule(CAJA),
        # The bank's own books: operations and (every GET) the auditor.
        ("GET", "/cuentas-internas"): Rule(frozenset({"operaciones", AUDITOR})),
    }
)

# POST /transacciones lets every role that may move some money in; the body's tipo is judged by check_movimiento.
TRANSACCIONES = ServicePolicy(
    {
        ("POST", "/transacciones"): Rule(CAJA, Customer.CONFINED),
        ("POST", "/transacciones/lote"): Rule(CAJA),
        ("GET", "/transacciones"): READ_CONFINED,
        ("GET", "/transacciones/fecha-rango"): READ_CONFINED,
        ("GET", "/transacciones/transaccion-id/{transaccion_id}"): READ_CONFINED,
        ("GET", "/transacciones/cuenta/{cuenta_id}"): READ_CONFINED,
        ("GET", "/transacciones/tipo/{tipo}"): READ_CONFINED,
        ("GET", "/transacciones/estado/{estado}"): READ_CONFINED,
        ("GET", "/transacciones/{id}"): READ_CONFINED,
        # Internal, between transacciones instances (recientes.py): a staff list passes its caller's token on.
        ("GET", "/transacciones/interno/recientes"): Rule(READ),
        ("PATCH", "/transacciones/{id}/estado"): Rule(OPERACIONES),
        ("POST", "/transacciones/{id}/reversion"): Rule(OPERACIONES),
        ("GET", "/stats"): Rule(frozenset({"operaciones", AUDITOR})),
        # FX transfers: every role may read the rates, operaciones sets them; a quote is asked for by whoever may make
        # the transfer (the route judges a customer's origin account as POST /transacciones does).
        ("GET", "/tipos-cambio"): Rule(READ | ANALYTICS, Customer.ANY),
        ("PUT", "/tipos-cambio"): Rule(OPERACIONES),
        ("POST", "/cotizaciones"): Rule(OPERACIONES, Customer.CONFINED),
    }
)

PERFIL = ServicePolicy(
    {
        ("GET", "/api/clientes/buscar"): Rule(READ),
        ("GET", "/api/clientes/{cliente_id}/perfil-completo"): READ_OWN_PATH,
        ("GET", "/cliente/{cliente_id}/completo"): READ_OWN_PATH,
        ("GET", "/api/clientes/{cliente_id}/transacciones"): READ_OWN_PATH,
    }
)

# Every analytics route (one per predefined query, the list, the custom query) is for analysts.
ANALYTICS_POLICY = ServicePolicy(
    {("GET", "/api/operaciones"): Rule(OPERACIONES)},  # the operator view (metrics), not the lake's data
    default=Rule(ANALYTICS),
)

# Which tipo of money movement each staff role may start; a customer only out of an account of their own.
TIPO_ROLES: Mapping[str, frozenset[str]] = {
    "DEPOSITO": CAJA,
    "RETIRO": CAJA,
    "PAGO_SERVICIO": CAJA,
    "TRANSFERENCIA": OPERACIONES,
}
CLIENTE_TIPOS = frozenset({"RETIRO", "PAGO_SERVICIO", "TRANSFERENCIA"})


class Forbidden(DomainError):
    status_code = 403
    error = "Acceso denegado"


def forbidden(roles: list[str], what: str = "esta operación") -> Forbidden:
    return Forbidden(f"Se necesita uno de los roles {', '.join(roles)} para {what}")


def check_movimiento(principal: Principal, tipo: str) -> bool:
    """True when `principal` may start a `tipo` as staff; False when only as a customer (out of their own account,
    which the caller checks); Forbidden otherwise."""
    roles = TIPO_ROLES.get(tipo, frozenset({ADMIN}))
    if staff(principal, roles):
        return True
    if CLIENTE in principal.roles and principal.cliente_id is not None and tipo in CLIENTE_TIPOS:
        return False
    needed = sorted(roles | {ADMIN}, key=_ORDER.index) + ([CLIENTE] if tipo in CLIENTE_TIPOS else [])
    raise forbidden(needed, f"una transacción {tipo}")


# The two dependencies are async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a needless
# hop (and a thread wake-up) per request.
async def principal_of(request: Request) -> Principal:
    """The validated caller (the platform's guard put it there before any route runs)."""
    principal: Principal = request.state.principal
    return principal


async def own_cliente(request: Request) -> int | None:
    """The cliente_id a CONFINED route must confine its answer to; None for staff (who see everything)."""
    principal: Principal = request.state.principal
    if CLIENTE not in principal.roles or staff(principal, READ | CAJA, request.method):
        return None
    return principal.cliente_id


PrincipalDep = Annotated[Principal, Depends(principal_of)]
OwnCliente = Annotated[int | None, Depends(own_cliente)]
