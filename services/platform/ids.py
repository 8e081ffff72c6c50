"""PathId: the one way a route reads an integer id from its path: plain ASCII digits, within the column's range
(and IdIn, the same rule for an id in a body, where a JSON integer is also fine)."""

import re
from typing import Annotated, Any, Final

from fastapi import Path
from pydantic import BeforeValidator

BIGINT_MAX: Final = 2**63 - 1
INT_MAX: Final = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+")


def plain_integer(value: Any) -> Any:
    """Refuse what int() would forgive: spaces, a sign, underscores, non-ASCII digits ("١"), 1.0, true."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        return value
    raise ValueError("must be a positive integer written with ASCII digits only")


IdIn = Annotated[int, BeforeValidator(plain_integer)]
"""An id in a request body: a JSON integer or a string of ASCII digits (bounds are the field's)."""


PathId = Annotated[int, BeforeValidator(plain_integer), Path(ge=1, le=BIGINT_MAX)]
"""An id of a BIGINT column (cliente_id, cuenta_id)."""

LookupPathId = Annotated[int, BeforeValidator(plain_integer), Path()]
"""An id whose range the service judges itself (clientes answers 404 for 0 or an id beyond BIGINT: no such row)."""

SmallPathId = Annotated[int, BeforeValidator(plain_integer), Path(ge=1, le=INT_MAX)]
"""An id of an INT column (tipo_cuenta_id)."""
