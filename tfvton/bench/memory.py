"""Peak resident memory of the process around a piece of work (Linux).

TensorFlow allocates outside Python, so `tracemalloc` sees none of it; the
kernel's high-water mark of the resident set (VmHWM) sees everything. Writing
5 to /proc/self/clear_refs resets that mark to the current RSS, so a
measurement is `peak after the work - RSS before it`. Where the reset is not
allowed, the figure falls back to the growth of `ru_maxrss` (a lower bound).
"""
from __future__ import annotations

import resource
from typing import Callable, Optional

_STATUS = "/proc/self/status"


def _status_kib(field: str) -> Optional[int]:
    try:
        with open(_STATUS) as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    """Current resident set size."""
    kib = _status_kib("VmRSS")
    return kib * 1024 if kib is not None else 0


def peak_rss_bytes() -> int:
    """High-water mark of the resident set since the start (or the last reset)."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib * 1024


def reset_peak() -> bool:
    """Resets the high-water mark to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def peak_delta_bytes(fn: Callable[[], object]) -> int:
    """Peak RSS during `fn()` minus the RSS before it (bytes, >= 0)."""
    before = rss_bytes()
    if not reset_peak():
        before = peak_rss_bytes()
    fn()
    return max(peak_rss_bytes() - before, 0)
