"""Every thread of the server follows the event loop's CPU affinity.

Affinity belongs to a thread. `taskset -p -c 0 PID` without `-a`, or psutil's `cpu_affinity`
on a running server, pins only the main thread, the event loop. The threads started before
that keep every core: the prediction log's writer and the executor's workers. From another
core they fight the loop for the GIL, and they take a core the operator meant for something
else: the bench pinned servers that way, and the 1-text p99 was 70-140 ms instead of ~10 ms.
A check every second copies the main thread's affinity onto the other threads, so pinning
the server's pid pins all of it. Linux only; elsewhere it does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

FOLLOW_EVERY_S = 1.0


def align_threads() -> int:
    """Give every thread of this process the calling thread's affinity; how many changed."""
    if not hasattr(os, "sched_getaffinity"):
        return 0
    try:
        wanted = os.sched_getaffinity(0)
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return 0
    changed = 0
    for tid in threads:
        with contextlib.suppress(OSError):  # a thread that just ended, or no permission
            if os.sched_getaffinity(tid) != wanted:
                os.sched_setaffinity(tid, wanted)
                changed += 1
    return changed


async def follow_main_thread_affinity() -> None:
    """Run on the event loop (the main thread) for the server's lifetime."""
    while True:
        await asyncio.sleep(FOLLOW_EVERY_S)
        align_threads()
