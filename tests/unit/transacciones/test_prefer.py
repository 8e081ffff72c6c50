"""`Prefer: wait=N` (RFC 7240): parsed leniently, capped, and honoured by the service's wait for a saga's end."""

import asyncio

import pytest

from services.transacciones import prefer, saga
from tests.unit.transacciones.fakes import environment
from tests.unit.transacciones.test_service import crear_en_fondo, only, pedido


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("wait=10", 10),
        ("respond-async, wait=5", 5),
        ('wait="7"', 7),
        (" WAIT = 3 ", 3),
        ("wait=100", prefer.MAX_WAIT),
        ("wait=0", 0),
        ("wait=1.5", None),  # delta-seconds are whole seconds
        ("wait=-1", None),
        ("wait=abc", None),
        ("wait=\u00b2", None),  # a digit to str.isdigit, not to int()
        ("wait=" + "9" * 5000, None),
        ("handling=lenient", None),
        ("", None),
        (None, None),
    ],
)
def test_la_espera_pedida_se_lee_con_tope_y_lo_que_no_se_entiende_se_ignora(header: str | None, seconds: int | None):
    assert prefer.parse(header) == seconds


async def test_sin_preferencia_se_espera_lo_del_servicio_y_con_ella_lo_pedido() -> None:
    async with environment(wait_seconds=0.05) as env:
        with prefer.asked(None):
            assert prefer.wait_or(0.05) == 0.05
        # The service's own 50 ms would answer PENDIENTE; the client asked for 5 s and gets the final state.
        with prefer.asked(5):
            task = await crear_en_fondo(env, pedido(tipo="RETIRO", cuentaDestinoId=None))
        doc = only(env)
        await asyncio.sleep(0.2)
        assert not task.done()
        await env.relay_once()
        await env.reply(doc.id, saga.Aplicado(f"{doc.transaccion_id}-DEB", 5, "111"))
        assert (await asyncio.wait_for(task, 2)).estado == "COMPLETADA"
