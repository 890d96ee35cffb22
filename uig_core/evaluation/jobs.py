"""Evaluations as background jobs: started from the *Model quality* page or ``uig evaluate``, kept per build id.

A job is one ``uig evaluate`` process. Its state lives in the workspace, beside the evaluation it produces
(``<build root>/evaluations/<build id>.job/``), so it outlives the browser tab and the Streamlit session that
started it, and a run started in a terminal shows on the page like one started there:

* ``state.json`` — :class:`JobState`: status, progress fraction and message, who started it, the process id;
  rewritten (atomically) at most a few times a second by the process doing the work.
* ``cancel`` — present once someone asked the job to stop; the worker checks it at every progress step, and
  :func:`cancel_job` also sends the process ``SIGTERM``, which the worker turns into a clean stop.
* ``log.txt`` — the process's stderr when the page started it (what a crash left behind).

:func:`start_job` launches the process (``python -m uig_core.cli.main evaluate …``) and returns at once;
:func:`run_job` is what that process (or a plain ``uig evaluate``) runs: it evaluates, writes progress, and keeps
the result with :func:`~uig_core.evaluation.results.save_quality` under the build id that was current when it
started. :func:`read_job` reads the state and notices a process that died without saying so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from uig_core import atomic
from uig_core.errors import UIGError
from uig_core.evaluation.results import quality_path, save_quality
from uig_core.evaluation.run import MAX_TEST_USERS
from uig_core.progress import Progress
from uig_core.store.workspace import Workspace

__all__ = ["JobState", "JobCancelled", "job_dir", "read_job", "start_job", "cancel_job", "run_job"]

log = logging.getLogger(__name__)

_STATE, _CANCEL, _LOG = "state.json", "cancel", "log.txt"
_WRITE_EVERY = 0.25  # seconds between progress writes
_START_GRACE = 120.0  # seconds a "starting" job may wait for its process before it counts as failed
_CHILDREN: dict[str, subprocess.Popen] = {}  # processes this server started, reaped by a waiter thread


class JobCancelled(UIGError):
    """The evaluation was cancelled before it finished."""


@dataclass(frozen=True)
class JobState:
    """Where one build's evaluation job stands.

    Attributes:
        dataset: Dataset name.
        build_id: The build evaluated (current when the job started).
        status: ``starting``, ``running``, ``done``, ``failed`` or ``cancelled``.
        fraction: Progress in [0, 1].
        message: What it is doing now (or the error, once failed).
        origin: ``page`` or ``cli``: who started it.
        started: Unix time it started; ``finished``: when it ended (None while it runs).
        pid: The process doing the work (None before it started).
    """

    dataset: str
    build_id: str
    status: str = "starting"
    fraction: float = 0.0
    message: str = "starting the evaluation"
    origin: str = "page"
    started: float = 0.0
    finished: float | None = None
    pid: int | None = None

    @property
    def active(self) -> bool:
        """Still starting or running."""
        return self.status in ("starting", "running")


def job_dir(ws: Workspace, dataset: str | None = None, build_id: str | None = None) -> Path:
    """The job folder of the dataset's current (or a given) build, beside its stored evaluation."""
    return quality_path(ws, dataset, build_id).with_suffix(".job")


def _write(folder: Path, state: JobState) -> JobState:
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_json(folder / _STATE, asdict(state))
    return state


def _load(folder: Path) -> JobState | None:
    try:
        raw = atomic.read_json(folder / _STATE)
    except (OSError, ValueError):
        return None
    fields = JobState.__dataclass_fields__
    return JobState(**{k: v for k, v in raw.items() if k in fields})


def _alive(pid: int | None) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def read_job(ws: Workspace, dataset: str | None = None, build_id: str | None = None) -> JobState | None:
    """The evaluation job of the dataset's current (or a given) build, or None when none was ever started.

    A job whose process is gone without a final status is reported as failed (or cancelled, when asked to stop).
    """
    folder = job_dir(ws, dataset, build_id)
    state = _load(folder)
    if state is None or not state.active:
        return state
    if state.status == "starting" and time.time() - state.started < _START_GRACE:
        child = _CHILDREN.get(str(folder))
        if child is None or child.poll() is None:
            return state
    elif state.status == "running" and _alive(state.pid):
        return state
    if (folder / _CANCEL).exists():
        return _write(folder, replace(state, status="cancelled", message="cancelled", finished=time.time()))
    return _write(
        folder,
        replace(state, status="failed", message=_crash_message(folder), finished=time.time()),
    )


def _crash_message(folder: Path) -> str:
    try:
        tail = [line for line in (folder / _LOG).read_text(errors="replace").splitlines() if line.strip()][-1:]
    except OSError:
        tail = []
    return "The evaluation process stopped before it finished" + (f": {tail[0][:300]}" if tail else ".")


def start_job(ws: Workspace, dataset: str | None = None, *, names: Iterable[str] | None = None) -> JobState:
    """Start evaluating the dataset's current build in a separate process, and return at once.

    A job already running for that build is returned as it is (one evaluation per build at a time).

    Args:
        ws: The workspace.
        dataset: Dataset name (default: the only one).
        names: Models to evaluate (default: every registered model, as ``uig evaluate`` does).
    """
    info = ws.dataset(dataset)
    folder = job_dir(ws, info.name)
    current = read_job(ws, info.name)
    if current is not None and current.active:
        return current
    (folder / _CANCEL).unlink(missing_ok=True)
    state = _write(folder, JobState(info.name, folder.name.removesuffix(".job"), started=time.time()))
    cmd = [sys.executable, "-m", "uig_core.cli.main", "evaluate", "--workspace", str(Path(ws.root).resolve())]
    cmd += ["--dataset", info.name, "--job-origin", "page"]
    if names:
        cmd += ["--models", ",".join(names)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with open(folder / _LOG, "wb") as err:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, arguments as a list
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True
        )
    _CHILDREN[str(folder)] = child
    threading.Thread(target=child.wait, name=f"uig-eval-{child.pid}", daemon=True).start()  # reap it
    log.info("evaluation of %s build %s started (pid %d)", info.name, state.build_id, child.pid)
    return state


def cancel_job(ws: Workspace, dataset: str | None = None) -> JobState | None:
    """Ask the running evaluation of the dataset's current build to stop; returns its state (None: no job)."""
    folder = job_dir(ws, dataset)
    state = read_job(ws, dataset)
    if state is None or not state.active:
        return state
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _CANCEL).touch()
    if state.pid and _alive(state.pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(state.pid), signal.SIGTERM)
        # SIGTERM is heard between Python steps; a worker deep in a long native call (a torch epoch) is killed
        # after a grace period instead, and its state says cancelled.
        threading.Thread(target=_kill_if_stuck, args=(folder, state, CANCEL_GRACE), daemon=True).start()
    return read_job(ws, dataset)


#: Seconds a cancelled worker has to stop by itself before it is killed.
CANCEL_GRACE = 15.0


def _kill_if_stuck(folder: Path, state: JobState, grace: float) -> None:
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(state.pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(int(state.pid), signal.SIGKILL)
    _write(folder, replace(state, status="cancelled", message="cancelled (stopped)", finished=time.time()))


class _Reporter:
    """The worker's progress callback: writes the state a few times a second and stops when cancelled."""

    def __init__(self, folder: Path, state: JobState, forward: Progress | None) -> None:
        self.folder, self.state, self.forward, self.last = folder, state, forward, 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self.forward is not None:
            self.forward(fraction, message)
        now = time.monotonic()
        if now - self.last < _WRITE_EVERY and fraction < 1.0:
            return
        self.last = now
        if (self.folder / _CANCEL).exists():
            raise JobCancelled("The evaluation was cancelled.")
        self.state = _write(
            self.folder, replace(self.state, fraction=min(max(float(fraction), 0.0), 1.0), message=str(message)[:200])
        )


@contextlib.contextmanager
def _sigterm_cancels() -> Iterator[None]:
    """Turn SIGTERM into :class:`JobCancelled` while the block runs (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise JobCancelled("The evaluation was cancelled.")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_job(
    ws: Workspace,
    dataset: str | None = None,
    *,
    origin: str = "cli",
    cutoff: str | None = None,
    k: int = 20,
    names: Iterable[str] | None = None,
    max_users: int | None = MAX_TEST_USERS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Evaluate the dataset's current build as a job: progress in the workspace, result kept by build id.

    The arguments are :func:`~uig_core.evaluation.run.evaluate_dataset`'s (``max_users=None``: every test user);
    ``origin`` (``cli`` or ``page``) says who started it.

    Raises:
        UIGError: Another process is evaluating this build already.
        JobCancelled: Someone cancelled the job (on the page, or with SIGTERM / Ctrl-C).
    """
    from uig_core.evaluation.run import evaluate_dataset

    info = ws.dataset(dataset)
    folder = job_dir(ws, info.name)
    build_id = folder.name.removesuffix(".job")
    before = read_job(ws, info.name)
    if before is not None and before.active and before.pid and before.pid != os.getpid() and _alive(before.pid):
        raise UIGError(
            f"Build {build_id} of {info.name!r} is being evaluated already (process {before.pid}); wait for it, "
            "or cancel it on the Model quality page."
        )
    if origin != "page":
        (folder / _CANCEL).unlink(missing_ok=True)
    started = before.started if before is not None and before.status == "starting" else time.time()
    state = JobState(info.name, build_id, "running", 0.0, "starting", origin, started, None, os.getpid())
    reporter = _Reporter(folder, _write(folder, state), progress)
    try:
        with _sigterm_cancels():
            result = evaluate_dataset(
                ws,
                info.name,
                cutoff=cutoff,
                k=k,
                names=names,
                max_users=max_users,
                progress=reporter,
            )
            result["run"] = {"origin": origin, "build_id": build_id, "finished": time.time()}
            save_quality(ws, result, info.name, build_id)
    except (JobCancelled, KeyboardInterrupt):
        _write(folder, replace(reporter.state, status="cancelled", message="cancelled", finished=time.time()))
        raise JobCancelled("The evaluation was cancelled.") from None
    except BaseException as err:
        text = str(err) if isinstance(err, UIGError) else f"{type(err).__name__}: {err}"
        if origin == "page":  # the page has no cutoff widget: say what the data lacks instead of naming a flag
            text = text.replace(
                "; choose a later --cutoff.",
                ": the log is too short for a 30-day hold-out (evaluate it once it runs longer).",
            )
        _write(folder, replace(reporter.state, status="failed", message=text[:500], finished=time.time()))
        raise
    _write(folder, replace(reporter.state, status="done", fraction=1.0, message="done", finished=time.time()))
    return result
