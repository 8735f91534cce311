"""Worker pools that fork, the one way ReelRec starts parallel workers.

Workers fork so they inherit what the parent already holds (modules, read-only data) instead of
re-importing or pickling it. A forked child starts with a copy of the parent's heap, including
objects that are garbage but not yet collected, such as DuckDB handles. If the child's first
garbage collection frees one of those, it runs the library's destructor against thread state the
child does not have, and the child can crash. So the parent collects and then freezes its heap
before forking (`gc.freeze`, as the gc docs advise for fork without exec): the children never
collect what they inherited.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def fork_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool of `workers` forked from this process with its heap frozen."""
    gc.collect()
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool
    finally:
        gc.unfreeze()
