"""How often Python's cyclic garbage collector runs in a service process that handles records in batches."""

import gc

GEN0_THRESHOLD = 50_000
"""Allocations between two young collections (Python's default: 700).

Why: a batch of 2,000 records is ~100,000 live objects until it is done. With the default thresholds they survive
the young collections into the old generation, and a full collection every second or so walks them plus everything
the process loaded (~90 ms each in the perfil projection: 17 of them cost 1.6 s of a 7 s run, a quarter of its CPU).
Reference counting frees almost everything anyway; the collector only has cycles to find, and finds them later."""


def tune() -> None:
    """Call once start-up has loaded everything (modules, models, the app): what exists then lives as long as the
    process, so no collection walks it again (gc.freeze), and collections become rarer and cheaper."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, 20, 20)
