"""Every malformed-input case of the Upload page tests, through the real ``uig ingest`` command in a subprocess.

Unusable files: exit code 2, one line on stderr naming the problem, no traceback, earlier datasets unchanged.
Partly bad files: exit code 0, the usable rows stored, what was skipped or changed in the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from malformed_cases import CLI_NEEDLES, HOSTILE_FILES, PARTLY_BAD

from uig_core.store.workspace import Workspace

GOOD_LOG = "user_id,item_id,event,ts\nu1,i1,view,2024-01-01\nu2,i2,purchase,2024-01-02\n"


def uig(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "uig_core.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "ws"
    good = root.parent / "good.csv"
    good.write_text(GOOD_LOG)
    assert uig("ingest", str(good), "--name", "good", "--workspace", str(root)).returncode == 0
    return root


def registry(root) -> list[tuple]:
    return [(d.name, d.rows, d.data_hash, d.current_build) for d in Workspace(root).datasets()]


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_unusable_file_fails_with_one_clear_line(workspace, tmp_path, case) -> None:
    content, page_needle = HOSTILE_FILES[case]
    bad = tmp_path / f"{case}.csv"
    bad.write_bytes(content)
    before = registry(workspace)
    done = uig("ingest", str(bad), "--name", case, "--workspace", str(workspace))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert str(bad.name) in lines[0] or case in ("no_known_columns",), lines[0]  # the file is named
    assert CLI_NEEDLES.get(case, page_needle).lower() in lines[0].lower(), lines[0]
    assert registry(workspace) == before  # earlier datasets unchanged, nothing half-added


@pytest.mark.parametrize("case", list(PARTLY_BAD))
def test_partly_bad_file_keeps_the_usable_rows(workspace, tmp_path, case) -> None:
    content, expected, note = PARTLY_BAD[case]
    log = tmp_path / f"{case}.csv"
    log.write_bytes(content)
    before = registry(workspace)
    done = uig("ingest", str(log), "--name", case, "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if note:  # the report printed for the analyst says what was changed
        assert note in done.stdout, done.stdout
    assert registry(workspace)[: len(before)] == before
    listed = uig("datasets", "--workspace", str(workspace), "--json")
    rows = {d["name"]: d["rows"] for d in json.loads(listed.stdout)["datasets"]}[case]
    assert (28 <= rows <= 31) if expected is None else rows == expected
