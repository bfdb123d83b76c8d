"""Giving the process's free memory back to the system.

glibc's allocator keeps the memory that Python frees in its heap for later use; only pages at
the top of the heap go back by themselves. A monitor that has just replayed a day of results
(detection's restore: millions of short-lived records) or pruned old rows is left holding the
free pages in the middle of the heap as resident memory it will not use again soon: at 2,000
targets after 12 hours of history, 30 MB of a 221 MB RSS (docs/benchmarks.md, "After 12
hours"). `malloc_trim(0)` hands those pages back (it keeps what is allocated, and costs a few
milliseconds on such a heap). Elsewhere (musl, macOS) there is nothing to call and nothing is
done.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the process's own C library; ctypes releases the GIL in calls
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
