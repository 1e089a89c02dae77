"""Peak RSS of the current process; no rag import, so the peer's own virtualenv can use it too."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """Peak RSS of this process's own address space (VmHWM).

    Not ``ru_maxrss``: Linux carries the parent's peak across fork and exec into it, so a child
    of a big parent would report at least the parent's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
