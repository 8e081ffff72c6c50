"""Use cases of transacciones: record a transaction and wait for its saga, read, cancel, advance a saga."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bson import ObjectId

from contracts import tracecontext
from contracts.envelope import AuthContext
from contracts.money import format_money
from services.platform.errors import Unavailable
from services.transacciones import outbox, prefer, reversion, saga
from services.transacciones.adelantadas import Adelantadas
from services.transacciones.cache import DocumentCache
from services.transacciones.cambios import Cambios
from services.transacciones.claims import ClaimBatcher
from services.transacciones.cotizaciones import Cotizacion
from services.transacciones.domain import (
    Transaccion,
    ahora,
    huella,
    idem_de,
    nuevo_id,
    object_id_de,
    parse_object_id,
    transaccion_id_de,
    validar_cuentas,
)
from services.transacciones.errors import (
    Fenced,
    IdempotencyKeyReused,
    NoCancelable,
    TransaccionNoEncontrada,
    YaRevertida,
)
from services.transacciones.listing import LIST_FIELDS, Listado
from services.transacciones.outbox import DocumentOutbox
from services.transacciones.ownership import Holder, Ownership
from services.transacciones.recientes import Recientes, Vecinas
from services.transacciones.repository import DuplicateIdem, Filtro
from services.transacciones.reversion_store import Intento, ReversionStore
from services.transacciones.schemas import TransaccionCreate, metadata_json
from services.transacciones.writer import DocumentWriter

log = logging.getLogger(__name__)


class EnOtraInstancia(Exception):
    """The request is for a saga another instance runs: ask it there (api.py forwards it). `doc`: this instance's
    answer should that one not respond (None: only that instance can answer)."""

    def __init__(self, url: str, doc: Transaccion | None = None) -> None:
        super().__init__(url)
        self.url = url
        self.doc = doc


REBALANCE_WAIT = 5.0
"""How long a POST waits for this instance to hold a saga partition (a rebalance in progress) before a 503."""
FENCED_RETRIES = 3
"""How many ids a request without a key tries when each one's partition moves before it is written (a rebalance)."""
POLL_SECONDS = 0.05
"""How often a request waits by re-reading a transaction that another instance's writer advances."""
HOLDER_CHECK_SECONDS = 0.5
"""How often such a retry re-reads who holds the saga's partition (one small find)."""
TAKEOVER_WAIT = 15.0
"""How long a keyed retry waits for a request whose first instance died after claiming its key: until this instance
holds the saga's partition (the group gives a dead member's partitions away after its 10 s session timeout) and
records it itself. Within the clients' and the balancer's timeouts, so the retry gets its answer, not a 503."""


def _tomada_despues(holder: Holder, antes: Holder, doc_id: ObjectId) -> bool:
    """Whether the partition's holder took it after the retry began waiting (a newer epoch) or after the claimed id
    was minted (ObjectId times are whole seconds, so a take-over in that same second counts: the minting instance
    had just lost it)."""
    if holder.epoch > antes.epoch:
        return True
    return holder.desde is not None and holder.desde >= doc_id.generation_time


def con_decision(
    doc: Transaccion, decision: saga.Decision, cuando: str | None = None, actor: AuthContext | None = None
) -> Transaccion:
    """The document after a saga decision: new saga state and estado, its messages queued in the outbox. They
    carry `actor`, by default the one who asked for the transaction (the saga acts on that request's behalf)."""
    now = ahora()
    decided = doc.model_copy(
        update={"saga": decision.saga, "estado": decision.estado, "motivo": decision.motivo, "actualizada": now}
    )
    return outbox.queue(
        decided,
        decision.mensajes,
        intento=decision.saga.intentos,
        causa=cuando,
        now=now,
        authcontext=actor or doc.actor,
    )


def paso_en_curso(doc: Transaccion) -> bool:
    """A reply moved the saga on to another step in flight (a transfer's credit, or the give-back of its debit): the
    writer keeps that state in memory. The command it sends is derived from the stored state and the replies, which
    a new owner reads again (replay.py), so one write fewer per transfer costs nothing after a crash but that."""
    return doc.estado == "PENDIENTE" and doc.saga.paso in saga.PASOS_EN_CURSO


def _cambio(c: Cotizacion | None) -> dict[str, object]:
    """The Orden fields of a transfer made at quote `c` (none without one)."""
    if c is None:
        return {}
    return {
        "cotizacion_id": c.cotizacion_id,
        "monto_destino": c.monto_destino,
        "moneda_destino": c.moneda_destino,
        "tasa": c.tasa,
        "ingreso": c.ingreso,
    }


def _traza_actual() -> tuple[str, str | None] | None:
    traceparent, tracestate = tracecontext.current()
    return (traceparent, tracestate) if traceparent else None


class Finales:
    """Lets a request wait for its transaction's final state; the writer signals every write (a listener)."""

    def __init__(self) -> None:
        self._waiting: dict[ObjectId, list[asyncio.Future[Transaccion]]] = {}

    def on_written(self, doc: Transaccion) -> None:
        if doc.final:
            for fut in self._waiting.pop(doc.id, []):
                if not fut.done():
                    fut.set_result(doc)

    def register(self, doc_id: ObjectId) -> "asyncio.Future[Transaccion]":
        fut: asyncio.Future[Transaccion] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(doc_id, []).append(fut)
        return fut

    def unregister(self, doc_id: ObjectId, fut: "asyncio.Future[Transaccion]") -> None:
        waiting = self._waiting.get(doc_id, [])
        if fut in waiting:
            waiting.remove(fut)
        if not waiting:
            self._waiting.pop(doc_id, None)


@dataclass
class TransaccionesService:
    writer: DocumentWriter
    outbox: DocumentOutbox
    finales: Finales
    wait_seconds: float = 2.0
    listado: Listado | None = None  # the lists' index (FerretDB 1.x); None: the store answers lists itself
    ownership: Ownership | None = None  # which sagas this instance writes; None: all of them (one instance)
    reversiones: ReversionStore | None = None  # who holds each reversal attempt; None: reversals refused (503)
    cambios: Cambios | None = None  # rates and quotes of FX transfers; None: a transfer naming a quote gets 503
    recientes: Recientes | None = None  # what this instance wrote lately, for the other instances' lists
    # Waits until the index has every transaction event now in the topic (listing_feed.ListingFeed.caught_up).
    al_dia: Callable[[], Awaitable[bool]] | None = None
    vecinas: Vecinas = field(init=False, default_factory=Vecinas)  # what the lists merged of the others' writes
    claims: ClaimBatcher = field(init=False)  # the Idempotency-Keys taken, batched like the writes
    cache: DocumentCache = field(init=False)  # reads: the writer's memory, else storage
    adelantadas: Adelantadas = field(init=False, default_factory=Adelantadas)  # replies ahead of their saga
    # Reversals this process claimed an attempt for and is recording (so nobody records them in their place).
    _revirtiendo: set[ObjectId] = field(init=False, default_factory=set)
    # How the lists caught up with the other instances' writes: asked them, or scanned the in-progress collection.
    read_your_writes: dict[str, int] = field(init=False, default_factory=lambda: {"peers": 0, "scan": 0})

    def __post_init__(self) -> None:
        self.claims = ClaimBatcher(self.writer.repo)
        self.cache = self.writer.cache

    # -- commands ----------------------------------------------------------------------------------------------

    async def crear(
        self,
        req: TransaccionCreate,
        idempotency_key: str | None,
        *,
        wait: bool = True,
        actor: AuthContext | None = None,
        reenviable: bool = False,
    ) -> Transaccion:
        """Record the transaction PENDIENTE with its saga and first events, then (`wait`) wait briefly for its end.
        With an Idempotency-Key: the same key and body answer with the original transaction, another body 409.
        `actor`: who asks for it, kept on the document and carried by all its events and commands. `reenviable`:
        the caller can send the request on to another instance (EnOtraInstancia), see _registrada_o_propia."""
        validar_cuentas(req.tipo, req.cuentaOrigenId, req.cuentaDestinoId)
        cotizacion = await self._cotizacion(req)
        oid = await self._id_propio()
        if idempotency_key is None:
            return await self._sin_clave(req, oid, actor, cotizacion, wait)
        body_hash = huella(req.fingerprint_body())
        idem = idem_de(idempotency_key, "")
        remembered = self.cache.by_idem(idem)
        if remembered is not None:  # a retry of a request this process served: nothing to write or look up
            return await self._original(remembered, body_hash, wait, reenviable)
        claim = await self.claims.claim(idem, oid, body_hash)
        if claim is None:
            try:
                return await self._registrar_nueva(req, oid, idempotency_key, body_hash, actor, cotizacion, wait)
            except Fenced:
                if not reenviable:
                    raise
                # The key is claimed for `oid`, whose partition a rebalance moved between minting and writing it
                # (nothing was written): only its new holder may record it, so the request goes there.
                existing = await self._registrada_o_propia(oid, reenviable=True)
                if existing is not None:
                    return await self._original(existing, body_hash, wait, reenviable)
                return await self._registrar_nueva(req, oid, idempotency_key, body_hash, actor, cotizacion, wait)
        if claim.body_hash != body_hash:
            raise IdempotencyKeyReused()
        existing = await self.cache.get(claim.doc_id)
        if existing is None and not self._propia(claim.doc_id):
            # Claimed by another instance, which records it a moment later (or died first: then its partition's
            # next owner answers the retry, and that may be this instance once the group has moved it).
            existing = await self._registrada_o_propia(claim.doc_id, reenviable=reenviable)
        if existing is None:
            # The key's first request died between claiming it and recording the transaction: record it now,
            # under the claimed id (concurrent retries collide on that id, so still only one is recorded).
            return await self._registrar_nueva(req, claim.doc_id, idempotency_key, body_hash, actor, cotizacion, wait)
        return await self._original(existing, body_hash, wait, reenviable)

    async def _cotizacion(self, req: TransaccionCreate) -> Cotizacion | None:
        if req.cotizacionId is None:
            return None
        if self.cambios is None:
            raise Unavailable("Las transferencias con cambio de moneda no están disponibles en esta instancia")
        return await self.cambios.de_transferencia(req)

    async def _registrar_nueva(
        self,
        req: TransaccionCreate,
        oid: ObjectId,
        key: str | None,
        body_hash: str | None,
        actor: AuthContext | None,
        cotizacion: Cotizacion | None,
        wait: bool,
    ) -> Transaccion:
        """Record a new transaction under `oid`; one made at a quote first takes the quote for `oid` (cambios.usar:
        409 when expired or used by another), so of two requests naming one quote only one is ever recorded."""
        if cotizacion is not None and self.cambios is not None:
            await self.cambios.usar(cotizacion, oid)
        return await self._registrar(self._nuevo(req, oid, key, body_hash, actor, cotizacion=cotizacion), wait)

    async def _sin_clave(
        self,
        req: TransaccionCreate,
        oid: ObjectId,
        actor: AuthContext | None,
        cotizacion: Cotizacion | None,
        wait: bool,
    ) -> Transaccion:
        """Record a request without an Idempotency-Key. A rebalance that takes `oid`'s partition between minting the
        id and writing it (Fenced: nothing was written) is not the client's problem: it is recorded under a new id
        of a partition still held. Not one at a quote: the quote stays taken for the first id."""
        intentos = 1
        while True:
            try:
                return await self._registrar_nueva(req, oid, None, None, actor, cotizacion, wait)
            except Fenced:
                if cotizacion is not None or intentos >= FENCED_RETRIES:
                    raise
            log.info("the saga partition of %s moved before it was written; recorded under a new id", oid)
            intentos += 1
            oid = await self._id_propio()

    async def _id_propio(self) -> ObjectId:
        """A new transaction's id, in a saga partition this instance holds (so it runs the saga it records)."""
        if self.ownership is None:
            return nuevo_id()[0]
        oid = self.ownership.new_id()
        if oid is None and await self.ownership.wait_owned(REBALANCE_WAIT):
            oid = self.ownership.new_id()
        if oid is None:
            raise Unavailable("Esta instancia aún no tiene particiones de sagas (reparto en curso); reintente")
        return oid

    def _propia(self, doc_id: ObjectId) -> bool:
        return self.ownership is None or self.ownership.owns(doc_id)

    async def _aparece(self, doc_id: ObjectId) -> Transaccion | None:
        """The document, once another instance has recorded it (waiting up to wait_seconds)."""
        deadline = asyncio.get_running_loop().time() + max(self.wait_seconds, 1.0)
        while True:
            doc = await self.cache.get(doc_id)
            if doc is not None or asyncio.get_running_loop().time() >= deadline:
                return doc
            await asyncio.sleep(POLL_SECONDS)

    async def _registrada_o_propia(self, doc_id: ObjectId, *, reenviable: bool = False) -> Transaccion | None:
        """The document once another instance records it, or None as soon as this instance holds its partition (its
        claimer died before recording it: the caller records it). `reenviable`: when the partition is held by another
        instance that took it after the id was minted (a newer epoch while this waits, e.g. the claimer restarted, or
        a rebalance between the claim and this retry), EnOtraInstancia, for the request to be sent there: only its
        holder may record it, and a claimer that lost the partition never will. 503 after TAKEOVER_WAIT."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TAKEOVER_WAIT
        antes = await self.ownership.holder(doc_id) if reenviable and self.ownership is not None else None
        mirado = loop.time()
        while True:
            doc = await self.cache.get(doc_id)
            if doc is not None:
                return doc
            if self._propia(doc_id):
                return None
            if antes is not None and self.ownership is not None and loop.time() - mirado >= HOLDER_CHECK_SECONDS:
                mirado = loop.time()
                ahora_ = await self.ownership.holder(doc_id)
                if ahora_ is not None and ahora_.url is not None and _tomada_despues(ahora_, antes, doc_id):
                    raise EnOtraInstancia(ahora_.url)
            if loop.time() >= deadline:
                raise Unavailable("La petición con esta Idempotency-Key la atiende otra instancia; reintente")
            await asyncio.sleep(POLL_SECONDS)

    def _nuevo(
        self,
        req: TransaccionCreate,
        oid: ObjectId,
        key: str | None,
        body_hash: str | None,
        actor: AuthContext | None = None,
        reversion_de: str | None = None,
        *,
        cotizacion: Cotizacion | None = None,
        fx: Mapping[str, object] | None = None,
    ) -> Transaccion:
        now = ahora()
        transaccion_id = transaccion_id_de(oid)
        doc = Transaccion(
            id=oid,
            transaccion_id=transaccion_id,
            tipo=req.tipo,
            monto=req.monto,
            moneda=req.moneda,
            cuenta_origen_id=req.cuentaOrigenId,
            cuenta_destino_id=req.cuentaDestinoId,
            descripcion=req.descripcion,
            fecha=now,
            estado="PENDIENTE",
            metadata_json=metadata_json(req.metadata),
            idem=idem_de(key, transaccion_id),
            body_hash=body_hash,
            epoch=self.outbox.epoch,
            saga=saga.SagaState(paso=saga.primer_paso(req.tipo), desde=now),
            actualizada=now,
            actor=actor,
            traza=_traza_actual(),
            reversion_de=reversion_de,
            **(_cambio(cotizacion) | dict(fx or {})),
        )
        return con_decision(doc, saga.iniciar(doc, now))

    async def _registrar(self, doc: Transaccion, wait: bool = True) -> Transaccion:
        waiter = self.finales.register(doc.id)
        try:
            stored = await self.writer.insert(doc)
        except DuplicateIdem:
            self.finales.unregister(doc.id, waiter)
            existing = await self.cache.get(doc.id)
            if existing is None:
                raise
            return await self._original(existing, doc.body_hash, wait)
        except BaseException:
            self.finales.unregister(doc.id, waiter)
            raise
        return await self._esperar(stored, waiter, wait)

    async def revertir(
        self, ref: str, idempotency_key: str | None, *, actor: AuthContext | None = None, reenviable: bool = False
    ) -> Transaccion:
        """Record and run the reversal of a COMPLETADA transaction (reversion.py), waiting briefly for its end like
        crear. At most once: another reversal that holds the original (in progress or COMPLETADA) is a 409 naming
        it; one that ended FALLIDA/CANCELADA does not count. With an Idempotency-Key: the same key for the same
        original answers the same reversal (never a second one), for another request 409. `reenviable`: as in
        crear, a retry whose key's reversal only another instance may record now raises EnOtraInstancia."""
        original = await self._doc(ref)
        reversion.comprobar(original, original.estado)
        if idempotency_key is None:
            return await self._revertir(original, await self._id_propio(), None, None, actor)
        body_hash = huella({"reversionDe": str(original.id)})
        idem = idem_de(idempotency_key, "")
        remembered = self.cache.by_idem(idem)
        if remembered is not None:
            return await self._original(remembered, body_hash, reenviable=reenviable)
        oid = await self._id_propio()
        claim = await self.claims.claim(idem, oid, body_hash)
        if claim is None:
            return await self._revertir(original, oid, idempotency_key, body_hash, actor)
        if claim.body_hash != body_hash:
            raise IdempotencyKeyReused()
        existing = await self.cache.get(claim.doc_id)
        if existing is None and not self._propia(claim.doc_id):
            existing = await self._aparece(claim.doc_id)
            if existing is None:
                vigente = await self._vigente(original.id)
                if vigente is not None:  # the key's request lost the original to another reversal
                    raise YaRevertida(str(original.id), str(vigente.id), vigente.estado)
                # or its claimer died (inherit it), or lost its partition to another live instance (forwarded there)
                existing = await self._registrada_o_propia(claim.doc_id, reenviable=reenviable)
        if existing is None:  # claimed, then died (or lost the original to another reversal): go on under its id
            return await self._revertir(original, claim.doc_id, idempotency_key, body_hash, actor)
        return await self._original(existing, body_hash, reenviable=reenviable)

    async def _revertir(
        self, original: Transaccion, oid: ObjectId, key: str | None, body_hash: str | None, actor: AuthContext | None
    ) -> Transaccion:
        """Claim the original's next free attempt for `oid` and record the reversal under it."""
        if self.reversiones is None:
            raise Unavailable("Las reversiones no están disponibles en esta instancia")
        conocidos = (await self.reversiones.de([original.id])).get(original.id, [])
        n = conocidos[-1].n if conocidos else 0  # every earlier attempt ended without effect
        self._revirtiendo.add(oid)
        try:
            while True:
                holder = await self.reversiones.reclamar(Intento(original.id, n, oid))
                if holder is None or holder == oid:
                    return await self._registrar(self._reversion(original, oid, key, body_hash, actor))
                previa = await self._intento(original, holder)
                if previa.estado not in reversion.SIN_EFECTO:
                    raise YaRevertida(str(original.id), str(previa.id), previa.estado)
                n += 1
        finally:
            self._revirtiendo.discard(oid)

    def _reversion(
        self, original: Transaccion, oid: ObjectId, key: str | None, body_hash: str | None, actor: AuthContext | None
    ) -> Transaccion:
        tipo, origen, destino = reversion.espejo(original)
        monto, moneda = reversion.montos(original)
        req = TransaccionCreate(
            tipo=tipo,
            monto=format_money(monto),
            moneda=moneda,
            cuentaOrigenId=origen,
            cuentaDestinoId=destino,
            descripcion=reversion.descripcion(original),
        )
        # An FX original: the reversal converts back at the original's own rate (reversion.cambio).
        fx = reversion.cambio(original)
        return self._nuevo(req, oid, key, body_hash, actor, reversion_de=str(original.id), fx=fx)

    async def _intento(self, original: Transaccion, holder: ObjectId) -> Transaccion:
        """The reversal holding an attempt; waited for while its request records it. One whose request died after
        claiming the attempt is recorded here, when its id is in a partition this instance writes."""
        doc = await self.cache.get(holder) or await self._aparece(holder)
        if doc is None and not self._propia(holder):
            doc = await self._registrada_o_propia(holder)  # its request may have died: wait to inherit its partition
        if doc is not None:
            return doc
        if holder not in self._revirtiendo:  # ours (now): its request died before recording it
            return await self._registrar(self._reversion(original, holder, None, None, None), wait=False)
        raise Unavailable("Otra petición está revirtiendo esta transacción; reintente")

    async def _vigente(self, original: ObjectId) -> Transaccion | None:
        """The reversal that holds `original` (in progress or COMPLETADA), if any: its latest attempt."""
        if self.reversiones is None:
            return None
        intentos = (await self.reversiones.de([original])).get(original)
        if not intentos:
            return None
        doc = await self.cache.get(intentos[-1].doc_id)
        return doc if doc is not None and doc.estado not in reversion.SIN_EFECTO else None

    async def revertidas(self, docs: list[Transaccion]) -> dict[ObjectId, str]:
        """`revertidaPor` of each of these that a COMPLETADA reversal gave back (its id)."""
        candidatas = [d.id for d in docs if d.estado == "COMPLETADA" and d.reversion_de is None]
        if self.reversiones is None or not candidatas:
            return {}
        por_original = await self.reversiones.de(candidatas)
        ultimas = await asyncio.gather(*(self.cache.get(i[-1].doc_id) for i in por_original.values()))
        return {
            original: str(doc.id)
            for original, doc in zip(por_original, ultimas, strict=True)
            if doc is not None and doc.estado == "COMPLETADA"
        }

    async def cancelar(self, ref: str, actor: AuthContext | None = None) -> Transaccion:
        """CANCELADA, only while the transaction has provably moved no money: its first command is still in the
        document's outbox, was never handed to Kafka by this process, and the document was written by this
        process (an earlier, killed process may have sent it just before dying). Anything else -> 409."""
        doc = await self._doc(ref)
        if doc.estado != "PENDIENTE":
            raise NoCancelable(f"La transacción está {doc.estado}: solo se cancela una PENDIENTE")
        if self.ownership is not None and not self._propia(doc.id):
            # Only the instance that runs it knows whether its first command was handed to Kafka.
            url = await self.ownership.owner_url(doc.id)
            if url is not None:
                raise EnOtraInstancia(url)
            raise NoCancelable("La transacción ya está en curso en otra instancia (su primer movimiento pudo enviarse)")

        def decide(unsent: Transaccion) -> Transaccion | None:
            decision = saga.cancelar(unsent, unsent.saga, unsent.estado, ahora())
            if decision is None:
                return None
            # The cancellation's events are the canceller's doing, not the requester's.
            return con_decision(unsent.model_copy(update={"cancelada_por": actor}), decision, actor=actor)

        cancelada = await self.outbox.withdraw(doc.id, saga.primer_evento(doc), decide)
        if cancelada is None:
            raise NoCancelable("La transacción ya está en curso (su primer movimiento pudo enviarse)")
        return cancelada

    async def aplicar_respuesta(self, transaccion_id: str, respuesta: saga.Respuesta, causa: str) -> None:
        """Advance the saga a reply from cuentas belongs to; a reply it is not waiting for changes nothing."""
        oid = object_id_de(transaccion_id)
        if oid is None:
            return

        def change(doc: Transaccion) -> tuple[Transaccion | None, None]:
            decision = saga.avanzar(doc, doc.saga, respuesta, ahora())
            if decision is None:
                self.adelantadas.guardar(doc.saga, respuesta, causa)
                return None, None
            doc = con_decision(doc, decision, causa)
            # The next step's reply may have come first (its saga was one step behind here: adelantadas.py).
            while (early := self.adelantadas.de(doc.saga.comando_id)) is not None:
                decision = saga.avanzar(doc, doc.saga, early[0], ahora())
                if decision is None:
                    break
                doc = con_decision(doc, decision, early[1])
            return doc, None

        try:
            await self.writer.mutate(oid, change, defer=paso_en_curso)
        except TransaccionNoEncontrada:
            log.debug("reply for unknown transaction %s ignored", transaccion_id)

    async def reenviar(self, doc_id: ObjectId) -> None:
        """Re-send the step in progress of a stuck saga (same comando_id, a new emission)."""

        def change(doc: Transaccion) -> tuple[Transaccion | None, None]:
            if doc.estado != "PENDIENTE":
                return None, None
            decision = saga.reenviar(doc, doc.saga, ahora())
            if decision is None:
                return None, None
            if outbox.carries_command(doc, doc.saga.comando_id):
                # Still unpublished (broker away): the relay keeps trying it; only the clock restarts.
                return doc.model_copy(update={"saga": decision.saga}), None
            return con_decision(doc, decision), None

        with contextlib.suppress(TransaccionNoEncontrada):
            await self.writer.mutate(doc_id, change)

    async def _leer_hasta_final(self, doc: Transaccion) -> Transaccion:
        """Wait for a saga another instance runs: its writes do not signal here, so read until final or timeout."""
        deadline = asyncio.get_running_loop().time() + prefer.wait_or(self.wait_seconds)
        while not doc.final and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            doc = (await self.writer.repo.load([doc.id])).get(doc.id) or doc
        return doc

    # -- queries -----------------------------------------------------------------------------------------------

    async def obtener(self, ref: str) -> Transaccion:
        return await self._doc(ref)

    async def por_transaccion_id(self, transaccion_id: str) -> Transaccion:
        oid = object_id_de(transaccion_id)
        doc = await self.cache.get(oid) if oid is not None else None
        if doc is None:
            raise TransaccionNoEncontrada(transaccion_id)
        return doc

    async def listar(
        self, filtro: Filtro, skip: int, limit: int, authorization: str | None = None
    ) -> tuple[list[Transaccion], int]:
        """`authorization`: the caller's, to ask the other instances what they wrote lately (a staff list)."""
        if self.listado is None or not self.listado.ready:
            return await self.writer.repo.page(filtro, skip, limit)
        if self.ownership is not None and not self.ownership.solo:
            # What other instances wrote a moment ago may not have reached the index as an event yet: ask them
            # (recientes.py). A customer's list, or when they cannot tell for sure, reads the small in-progress
            # collection, where every transaction stays until its events are out (one that just ended with its
            # state before the end: the index moves an estado only forward, and the end arrives as an event).
            rows = (
                None if filtro.cuentas is not None else await self.vecinas.de_las_otras(self.ownership, authorization)
            )
            scanned = rows is None
            self.read_your_writes["scan" if scanned else "peers"] += 1
            if rows is None:
                rows = [raw async for raw in self.writer.repo.list_scans(LIST_FIELDS)[0]]
            self.listado.add_scanned(rows)
            if scanned and self.al_dia is not None:
                # One the others ended left that collection once its events were out (maybe before the scan), and
                # reaches the index only as those events: wait for the tail to read what the topic holds now.
                await self.al_dia()
        ids, total = self.listado.page(filtro, skip, limit)
        docs = await asyncio.gather(*(self.cache.get(i) for i in ids))
        return [d for d in docs if d is not None], total

    # -- helpers -----------------------------------------------------------------------------------------------

    async def _doc(self, ref: str) -> Transaccion:
        oid = parse_object_id(ref)
        doc = await self.cache.get(oid) if oid is not None else None
        if doc is None:
            raise TransaccionNoEncontrada(ref)
        return doc

    async def _original(
        self, doc: Transaccion, body_hash: str | None, wait: bool = True, reenviable: bool = False
    ) -> Transaccion:
        """The answer a retried request gets: its original transaction, waited for like the first time (`reenviable`:
        at the instance that runs its saga, see _esperar)."""
        if doc.body_hash != body_hash:
            raise IdempotencyKeyReused()
        waiter = self.finales.register(doc.id)
        latest = await self.cache.get(doc.id) or doc
        return await self._esperar(latest, waiter, wait, reenviable)

    async def _esperar(
        self, doc: Transaccion, waiter: "asyncio.Future[Transaccion]", wait: bool, reenviable: bool = False
    ) -> Transaccion:
        """`doc` once final, or as it is after the wait. Its saga run elsewhere: a `reenviable` request goes to that
        instance (EnOtraInstancia carrying `doc`, the answer should it not respond), where the end of the saga
        wakes it; else this instance reads the document until final."""
        seconds = prefer.wait_or(self.wait_seconds)
        try:
            if doc.final or seconds <= 0 or not wait:
                return doc
            if not self._propia(doc.id):
                # A retry of a long-polling client (after a 202) lands on either instance behind the balancer;
                # reading the document here every POLL_SECONDS made FerretDB the bottleneck at high concurrency.
                url = await self.ownership.owner_url(doc.id) if reenviable and self.ownership is not None else None
                if url is not None:
                    raise EnOtraInstancia(url, doc)
                return await self._leer_hasta_final(doc)
            try:
                return await asyncio.wait_for(asyncio.shield(waiter), seconds)
            except TimeoutError:
                # The signal may have been missed (e.g. the document was evicted and re-read): read once more.
                return await self.cache.get(doc.id) or doc
        finally:
            self.finales.unregister(doc.id, waiter)
