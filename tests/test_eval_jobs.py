"""Evaluations as background jobs: the CLI's result shows on Model quality, a page-started job runs in its own
process (so a closed tab does not stop it), shows progress, can be cancelled, and a crashed one reads as failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import copy_workspace, hostile_events, page_app
from streamlit.testing.v1 import AppTest

from uig_core.build.pipeline import build
from uig_core.errors import UIGError
from uig_core.evaluation import jobs
from uig_core.evaluation.results import load_quality
from uig_core.ingest.clean import read_log
from uig_core.store.workspace import Workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one small built dataset, ``shop`` (60 users over 80 days: a real test period)."""
    root = tmp_path_factory.mktemp("jobs") / "ws"
    log = root.parent / "shop.csv"
    hostile_events().to_csv(log, index=False)
    result = read_log(log)
    ws = Workspace(root)
    ws.add_dataset("shop", result.events, source=str(log), report=result.report.to_dict())
    build(ws, "shop")
    return root


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    return copy_workspace(built, tmp_path / "ws")


def quality_page(root: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("UIG_WORKSPACE", str(root))
    monkeypatch.delenv("UIG_PASSWORD", raising=False)
    at = page_app("model_quality", timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def wait_for(ws: Workspace, done: set[str], timeout: float = 240.0) -> jobs.JobState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = jobs.read_job(ws, "shop")
        if state is not None and state.status in done:
            return state
        time.sleep(0.3)
    raise AssertionError(f"job still {jobs.read_job(ws, 'shop')} after {timeout:.0f} s")


def _buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def test_cli_evaluation_shows_on_the_page(root, monkeypatch):
    from uig_core.cli.main import main

    assert main(["evaluate", "--workspace", str(root), "--dataset", "shop", "--models", "popularity,ease"]) == 0
    ws = Workspace(root)
    result = load_quality(ws, "shop")
    assert result["run"]["origin"] == "cli" and result["run"]["build_id"] == ws.dataset("shop").current_build
    state = jobs.read_job(ws, "shop")
    assert state.status == "done" and state.origin == "cli" and state.fraction == 1.0
    at = quality_page(root, monkeypatch)
    shown = next(d.value for d in at.dataframe if "note" in d.value.columns)  # the stored build tables first
    assert set(shown["model"]) == {"popularity", "ease"}
    assert "from the command line" in " ".join(c.value for c in at.caption)
    assert "quality_run" not in _buttons(at) and "quality_rerun" in _buttons(at)


def test_no_save_leaves_the_page_alone(root):
    from uig_core.cli.main import main

    args = ["evaluate", "--workspace", str(root), "--dataset", "shop", "--models", "popularity", "--no-save"]
    assert main(args) == 0
    assert load_quality(Workspace(root), "shop") is None and jobs.read_job(Workspace(root), "shop") is None


def test_page_job_runs_apart_from_the_session(root, monkeypatch):
    at = quality_page(root, monkeypatch)
    at.button(key="quality_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ws = Workspace(root)
    state = jobs.read_job(ws, "shop")
    assert state is not None and state.origin == "page"
    if state.active:  # the page shows the job while it runs, with a way to stop it
        assert "quality_cancel" in _buttons(at) or at.get("progress")
    del at  # the session (the tab) is gone; the process is not
    done = wait_for(ws, {"done", "failed", "cancelled"})
    assert done.status == "done", done.message
    result = load_quality(ws, "shop")
    assert result["run"]["origin"] == "page" and len(result["models"]) >= 5
    reopened = quality_page(root, monkeypatch)  # a new session sees the result as its own
    assert len(reopened.dataframe[0].value) == len(result["models"])
    assert "on this page" in " ".join(c.value for c in reopened.caption)


def test_cancel_stops_the_process(root):
    ws = Workspace(root)
    jobs.start_job(ws, "shop")
    running = wait_for(ws, {"running", "done", "failed"}, timeout=120)
    assert running.status == "running", running
    after = jobs.cancel_job(ws, "shop")
    final = after if not after.active else wait_for(ws, {"cancelled", "failed", "done"}, timeout=60)
    assert final.status == "cancelled"
    deadline = time.monotonic() + jobs.CANCEL_GRACE + 15  # it stops by itself, or is killed after the grace
    while jobs._alive(running.pid) and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.2)
    assert not jobs._alive(running.pid)  # noqa: SLF001 - the process is really gone
    assert load_quality(ws, "shop") is None  # nothing half-finished was kept


def test_a_dead_process_reads_as_failed_and_a_live_one_blocks_a_second_run(root):
    ws = Workspace(root)
    folder = jobs.job_dir(ws, "shop")
    gone = subprocess.Popen(["true"])
    gone.wait()
    jobs._write(  # noqa: SLF001 - the state a killed worker leaves behind
        folder, jobs.JobState("shop", folder.name[:-4], "running", 0.4, "ease", "page", time.time(), None, gone.pid)
    )
    state = jobs.read_job(ws, "shop")
    assert state.status == "failed" and "stopped before it finished" in state.message
    busy = subprocess.Popen(["sleep", "30"])
    try:
        jobs._write(  # noqa: SLF001
            folder, jobs.JobState("shop", folder.name[:-4], "running", 0.1, "x", "cli", time.time(), None, busy.pid)
        )
        with pytest.raises(UIGError, match="being evaluated already"):
            jobs.run_job(ws, "shop", names=["popularity"])
    finally:
        busy.kill()
        busy.wait()


def test_a_worker_that_does_not_hear_sigterm_is_killed_after_the_grace(root, monkeypatch):
    ws = Workspace(root)
    folder = jobs.job_dir(ws, "shop")
    deaf = subprocess.Popen(  # stands for a worker stuck in one long native call
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"]
    )
    try:
        time.sleep(0.5)  # its handler is in place
        jobs._write(  # noqa: SLF001
            folder, jobs.JobState("shop", folder.name[:-4], "running", 0.3, "x", "page", time.time(), None, deaf.pid)
        )
        monkeypatch.setattr(jobs, "CANCEL_GRACE", 0.5)
        jobs.cancel_job(ws, "shop")
        assert deaf.wait(timeout=20) != 0  # killed
        deadline = time.monotonic() + 10
        while jobs.read_job(ws, "shop").status != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert jobs.read_job(ws, "shop").status == "cancelled"
    finally:
        if deaf.poll() is None:
            deaf.kill()
            deaf.wait()
