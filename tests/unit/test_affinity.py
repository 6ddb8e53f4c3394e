"""Threads follow the calling (main) thread's CPU affinity (backend/affinity.py)."""

from __future__ import annotations

import os
import threading

from backend.affinity import align_threads


def test_threads_take_the_main_threads_affinity() -> None:
    allowed = os.sched_getaffinity(0)
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    try:
        if len(allowed) < 2:  # one core: every thread already shares it
            assert align_threads() == 0
            return
        core = {min(allowed)}
        os.sched_setaffinity(0, core)  # like `taskset -p`: this thread only
        assert helper.native_id is not None
        assert os.sched_getaffinity(helper.native_id) == allowed
        assert align_threads() >= 1
        assert os.sched_getaffinity(helper.native_id) == core
        assert align_threads() == 0  # nothing left to change
    finally:
        os.sched_setaffinity(0, allowed)
        align_threads()
        stop.set()
        helper.join()
