"""Render documents in worker processes, each under a time limit and an address-space limit.

One document must not stall or sink everyone's: a 1 MB text field once took 60 s and 232 MB to
lay out. render.render_pdf sends each job to a warm worker (a spawned process that has imported
WeasyPrint and loaded the fonts once, so a 3-page document stays well under 0.3 s) and waits at
most RENDER_TIMEOUT_S; a worker past its time is killed and replaced. Each worker runs under
RLIMIT_AS, so a document that needs more memory fails in its worker (MemoryError, or the worker
dies) instead of growing the server. Several workers render side by side; a worker is replaced
after TASKS_PER_WORKER jobs, which bounds what a long-lived WeasyPrint process accumulates.

A fresh interpreter (python -m documents.render_workers), not a fork: the server has threads and
Pango/fontconfig state a fork would copy half-locked, and multiprocessing's spawn would re-run the
parent's main script.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value else default
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, value, default)
        return default


# The largest document allowed (60,000 characters, about 100 pages) took 3-15 s on the 2-core
# machine; measured in a worker: 230 MB of address space warm, 253 MB peak (146 MB resident) for
# 58,000 characters. The limits leave the largest allowed document ample room and stop anything
# far past it.
RENDER_TIMEOUT_S = _env_number("GONGZHI_RENDER_TIMEOUT_S", 30.0)
RENDER_MEMORY_MB = int(_env_number("GONGZHI_RENDER_MEMORY_MB", 1024))
WORKERS = max(1, int(_env_number("GONGZHI_RENDER_WORKERS", 2)))
TASKS_PER_WORKER = 200
START_TIMEOUT_S = 60.0  # a cold worker imports WeasyPrint and loads the CJK fonts


def _serve(conn: Connection, memory_bytes: int) -> None:
    """A worker's loop: render (kind, context) jobs until the pipe closes."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    from documents import render

    render.warm_up()
    conn.send(("ready", None))
    while True:
        try:
            kind, context = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", render.render_pdf_here(kind, context))
        except MemoryError:
            reply = ("memory", None)
        except render.RenderError as exc:
            reply = ("error", exc)
        except Exception as exc:  # reported to the caller as a RenderError, never lost
            reply = ("error", render.RenderError(f"{type(exc).__name__}: {exc}"))
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))


class _Worker:
    """A child Python running this module's _serve, talking over an inherited socket pair."""

    def __init__(self, memory_mb: int) -> None:
        parent, child = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR),
                                                                          os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "documents.render_workers", str(child.fileno()), str(memory_mb)],
            pass_fds=(child.fileno(),), env=env, cwd=PROJECT_DIR, stdin=subprocess.DEVNULL,
        )
        child.close()
        self.conn = Connection(parent.detach())
        self.tasks = 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.conn.close()
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            log.warning("render worker %s did not exit", self.process.pid)


def _plain(value: Any) -> Any:
    """A context as builtins a pipe can carry (contexts may hold read-only mapping views)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value) if type(value) in (list, tuple) else \
            [_plain(item) for item in value]
    return value


class RenderPool:
    """Up to `workers` render processes, started when first needed; jobs wait for a free one."""

    def __init__(self, workers: int = WORKERS, *, timeout_s: float = RENDER_TIMEOUT_S,
                 memory_mb: int = RENDER_MEMORY_MB) -> None:
        self.workers, self.timeout_s, self.memory_mb = workers, timeout_s, memory_mb
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(workers):
            self._idle.put(None)  # a slot; its worker starts on first use
        self._closed = threading.Event()

    def render(self, kind: str, context: Mapping[str, Any]) -> bytes:
        from documents.render import RenderError, RenderTimeout, TooLarge

        if self._closed.is_set():
            raise RenderError("the render pool is closed")
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive() or worker.tasks >= TASKS_PER_WORKER:
                if worker is not None:
                    worker.stop()
                worker = None
                worker = self._start()
            worker.tasks += 1
            worker.conn.send((kind, _plain(context)))
            if not worker.conn.poll(self.timeout_s):
                log.warning("render of %s took over %.0f s; its worker is stopped", kind, self.timeout_s)
                worker.stop()
                worker = None
                raise RenderTimeout(f"{kind}: rendering took longer than {self.timeout_s:g} s; stopped")
            try:
                status, value = worker.conn.recv()
            except (EOFError, OSError):
                code = worker.process.poll()
                worker.stop()
                worker = None
                raise TooLarge(f"{kind}: the render worker died (exit code {code}); the document needs "
                               f"more than {self.memory_mb} MB or crashed the renderer") from None
        finally:
            self._idle.put(worker)
        if status == "ok":
            return value
        if status == "memory":
            raise TooLarge(f"{kind}: rendering needs more than {self.memory_mb} MB of memory")
        raise value

    def _start(self) -> _Worker:
        from documents.render import RenderError

        worker = _Worker(self.memory_mb)
        if not worker.conn.poll(START_TIMEOUT_S):
            worker.stop()
            raise RenderError(f"a render worker did not start within {START_TIMEOUT_S:g} s")
        try:
            worker.conn.recv()
        except (EOFError, OSError):
            code = worker.process.poll()
            worker.stop()
            raise RenderError(f"a render worker failed to start (exit code {code})") from None
        return worker

    def close(self) -> None:
        self._closed.set()
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            if worker is not None:
                worker.stop()


_POOL: RenderPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> RenderPool:
    """The process's render pool (created on first use, closed at exit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = RenderPool()
            atexit.register(_POOL.close)
        return _POOL


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]) * 1024 * 1024)
