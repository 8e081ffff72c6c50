"""Time arguments of the reading commands (`bank events`, `bank audit`): absolute, named or relative to now."""

import re
from datetime import UTC, datetime, timedelta

# "-15m" and "15m" both mean 15 minutes ago: a time argument is a point in the past, so the sign is optional.
_RELATIVE = re.compile(r"^-?\s*(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TIME_FORMS = "ISO 8601 (naive = UTC), 'now', 'today', 'yesterday' (UTC midnight), or an age: -15m, 2h, -7d, 1w"


def parse_time(text: str) -> datetime:
    """A point in time from one of TIME_FORMS; ValueError naming them otherwise."""
    text = text.strip().lower()
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"now": now, "today": midnight, "yesterday": midnight - timedelta(days=1)}
    if text in named:
        return named[text]
    relative = _RELATIVE.match(text)
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        value = datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValueError(f"{text!r} is not a time; use {TIME_FORMS}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
