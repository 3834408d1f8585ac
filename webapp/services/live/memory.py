"""Handing freed memory back to the operating system after a large, short-lived computation.

A full matrix build, a map fit or a catalogue load allocates tens of MiB of temporaries. Once
freed, glibc keeps much of that memory in the process (free chunks between live ones), so a
worker's resident size stays at its peak; malloc_trim returns every free page it can.
"""

import ctypes
import ctypes.util

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _trim = _libc.malloc_trim
except (OSError, AttributeError):  # not glibc: nothing to do
    _trim = None


def give_back() -> None:
    """Return the process's free heap memory to the operating system (glibc), else nothing."""
    if _trim is not None:
        _trim(0)
