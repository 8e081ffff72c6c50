"""HTTP routes of MS1 (API.md §MS1): parse, call a use case, shape the answer. Errors are typed and mapped to
404/409/422 by the platform app."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import AfterValidator

from contracts.clientes import EstadoCliente
from services.clientes import domain
from services.clientes.dependencies import ServiceDep
from services.clientes.errors import ClienteNoEncontrado
from services.clientes.schemas import ClienteCreate, ClientePublic, ClientesLote, ClienteUpdate, ErrorDetail, Mensaje
from services.platform.actor import ActorDep
from services.platform.idempotency import IdempotencyKey, Keyed, run_keyed
from services.platform.idempotent_lote import KeyedLote
from services.platform.ids import LookupPathId
from services.platform.lote import ResultadoLote
from services.platform.openapi import LOCATION, headers
from services.platform.pagination import PageDep, set_total
from services.platform.policy import OwnCliente

router = APIRouter()

Busqueda = Annotated[
    str | None,
    Query(max_length=100, description="case-insensitive text in nombre, apellido, email or numero_documento"),
    AfterValidator(lambda v: v if v is None else domain.check_text(v)),
]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorDetail, "description": "cliente desconocido"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorDetail, "description": "conflicto (o Idempotency-Key ya usada con otra petición)"}
}


def _public(cliente: domain.Cliente) -> ClientePublic:
    return ClientePublic.model_validate(cliente)


@router.get("/clientes", response_model=list[ClientePublic], tags=["clientes"])
async def listar_clientes(
    service: ServiceDep,
    page: PageDep,
    response: Response,
    own: OwnCliente,
    estado: EstadoCliente | None = None,
    q: Busqueda = None,
) -> list[ClientePublic]:
    """Clientes ordered by cliente_id; X-Total-Count carries the total matching the filters. A customer's list
    holds only themselves."""
    clientes, total = await service.listar(estado=estado, q=q, skip=page.skip, limit=page.limit, cliente_id=own)
    set_total(response, total)
    return [_public(c) for c in clientes]


@router.post(
    "/clientes",
    status_code=201,
    response_model=ClientePublic,
    responses={**_CONFLICT, **headers(LOCATION, 201)},
    tags=["clientes"],
)
async def crear_cliente(
    body: ClienteCreate,
    service: ServiceDep,
    request: Request,
    response: Response,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> ClientePublic | Response:
    """A retry with the same Idempotency-Key answers the cliente it created (not a 409 for its own email)."""

    async def write(idem: Keyed[domain.Cliente] | None) -> domain.Cliente:
        cliente = await service.registrar(body.to_domain(), idem, actor)
        response.headers["Location"] = _location(cliente)
        return cliente

    return await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=write,
        render=_public,
        status=201,
        location=_location,
    )


def _location(cliente: domain.Cliente) -> str:
    return f"/clientes/{cliente.cliente_id}"


@router.post("/clientes/lote", response_model=ResultadoLote, tags=["clientes"])
async def crear_clientes_lote(
    body: ClientesLote, service: ServiceDep, request: Request, actor: ActorDep, idempotency_key: IdempotencyKey = None
) -> ResultadoLote | Response:
    """Bulk registration (seed, migrations): each item as POST /clientes would judge it, the same ClienteCreado
    events; one result per item, in order. With an Idempotency-Key a retry registers each cliente at most once."""
    lote: KeyedLote[domain.NuevoCliente, domain.Cliente] = KeyedLote(
        lambda nuevos, idem: service.registrar_lote(nuevos, idem, actor),
        lambda nuevo, idem: service.registrar(nuevo, idem, actor),
        lambda c: c.cliente_id,
        service.respuestas_registradas,
    )
    return await lote.run(request, idempotency_key, body, [c.to_domain() for c in body.clientes])


@router.get("/clientes/email/{email}", response_model=ClientePublic, responses=_NOT_FOUND, tags=["clientes"])
async def cliente_por_email(email: str, service: ServiceDep, own: OwnCliente) -> ClientePublic:
    """Case-insensitive."""
    return _public(_own(await service.por_email(email), own, email))


@router.get(
    "/clientes/documento/{numero_documento}", response_model=ClientePublic, responses=_NOT_FOUND, tags=["clientes"]
)
async def cliente_por_documento(numero_documento: str, service: ServiceDep, own: OwnCliente) -> ClientePublic:
    return _public(_own(await service.por_documento(numero_documento), own, numero_documento))


def _own(cliente: domain.Cliente, own: int | None, asked: str) -> domain.Cliente:
    """A customer finding someone else gets the same 404 as for nobody: the lookup confirms nothing."""
    if own is not None and cliente.cliente_id != own:
        raise ClienteNoEncontrado(asked)
    return cliente


@router.get("/clientes/{cliente_id}", response_model=ClientePublic, responses=_NOT_FOUND, tags=["clientes"])
async def obtener_cliente(cliente_id: LookupPathId, service: ServiceDep) -> ClientePublic:
    return _public(await service.obtener(cliente_id))


@router.put(
    "/clientes/{cliente_id}", response_model=ClientePublic, responses={**_NOT_FOUND, **_CONFLICT}, tags=["clientes"]
)
async def actualizar_cliente(
    cliente_id: LookupPathId,
    body: ClienteUpdate,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> ClientePublic | Response:
    """Fields left out keep their value (estado is never reset by omission)."""
    return await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=lambda idem: service.actualizar(cliente_id, body.to_domain(), idem, actor),
        render=_public,
    )


@router.delete(
    "/clientes/{cliente_id}", response_model=Mensaje, responses={**_NOT_FOUND, **_CONFLICT}, tags=["clientes"]
)
async def eliminar_cliente(cliente_id: LookupPathId, service: ServiceDep, actor: ActorDep) -> Mensaje:
    """Soft delete; 409 while the cliente has open accounts with balance."""
    await service.eliminar(cliente_id, actor)
    return Mensaje(mensaje=f"Cliente {cliente_id} eliminado")
