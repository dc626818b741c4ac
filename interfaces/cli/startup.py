"""Start-up without the cyclic garbage collector walking what was just loaded.

Importing the desk's stack (langgraph, langchain-core and langsmith, pandas, chdb, pydantic
models by the hundred) and opening the desk allocate some 300,000 objects that live as long
as the process. The collector, run every 700 new objects, walks them again and again and
frees next to nothing, and walks them all once more when the process exits: 0.3 to 0.45 s
of a one-shot `quantdesk ask`'s CPU on the 2-core VM. So collection is paused while the
CLI and a command's desk load, and put back as it was after.

In a `quantdesk` process of its own (`main()`), what is loaded by then is also frozen
(`gc.freeze`): modules, classes and the open desk, which the collector then no longer
walks; what the command allocates later is collected as usual. Where the CLI runs inside
another program (the tests drive `app` in process), nothing is frozen: that program's
garbage must stay collectable."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_own_process = False


def own_process() -> None:
    """This process is one `quantdesk` command: what it loads to start may be frozen."""
    global _own_process
    _own_process = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; after it, in a process of its own,
    everything allocated so far is frozen, and the collector is put back as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _own_process:
            gc.freeze()
        if enabled:
            gc.enable()
