"""The `uig` command line: one clear line per error, JSON shapes, datasets left intact by bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from uig_core.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess (process start included)."""
    return subprocess.run(
        [sys.executable, "-m", "uig_core.cli.main", *args], capture_output=True, text=True, cwd=cwd or REPO, timeout=600
    )


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0
    for cmd in ("ingest", "build", "recommend", "evaluate", "datasets", "demo", "app", "interests", "portrait"):
        assert cmd in out.stdout


def test_ingest_then_datasets_json(tmp_path, capsys):
    log = tmp_path / "shop.csv"
    log.write_text("customer,sku,action,when\nc1,s1,view,2024-01-01\nc1,s1,buy,2024-01-02\nc2,s2,buy,2024-01-03\n")
    assert main(["ingest", str(log), "--workspace", str(tmp_path / "ws"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["dataset"]["name"] == "shop" and payload["report"]["events"] == {"purchase": 2, "view": 1}
    assert main(["datasets", "--workspace", str(tmp_path / "ws"), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == {
        "datasets": [
            {
                "name": "shop",
                "rows": 3,
                "users": 2,
                "items": 2,
                "built": False,
                "created": listed["datasets"][0]["created"],
                "source": str(log),
            }
        ]
    }


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"user_id,item_id\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40, "binary"),
        (b"a,b,c\n1,2,3\n", "no column maps to 'user_id'"),
    ],
)
def test_bad_files_fail_with_one_line_and_keep_earlier_datasets(tmp_path, capsys, content, needle):
    ws = str(tmp_path / "ws")
    good = tmp_path / "good.csv"
    good.write_text("user_id,item_id,ts\nu1,i1,2024-01-01\n")
    assert main(["ingest", str(good), "--workspace", ws]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    code = main(["ingest", str(bad), "--workspace", ws, "--name", "bad"])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["datasets", "--workspace", ws, "--json"]) == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)["datasets"]] == ["good"]


def test_duplicate_name_and_unknown_dataset(tmp_path, capsys):
    ws = str(tmp_path / "ws")
    log = tmp_path / "a.csv"
    log.write_text("user_id,item_id\nu,i\n")
    assert main(["ingest", str(log), "--workspace", ws]) == 0
    assert main(["ingest", str(log), "--workspace", ws]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["build", "--workspace", ws, "--dataset", "nope"]) == 2
    assert "no dataset named 'nope'" in capsys.readouterr().err


def test_unexpected_errors_are_one_line_without_debug(tmp_path):
    out = run("recommend", "u1", "--workspace", str(tmp_path / "empty"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no dataset yet" in out.stderr


def test_build_verbose_logs_each_steps_timing(tmp_path):
    from conftest import hostile_events

    log = tmp_path / "shop.csv"
    hostile_events().to_csv(log, index=False)
    ws = str(tmp_path / "ws")
    assert main(["ingest", str(log), "--workspace", ws, "--name", "shop"]) == 0
    quiet = run("build", "--workspace", ws, "--dataset", "shop")
    assert quiet.returncode == 0, quiet.stderr
    assert "step " not in quiet.stderr  # nothing is logged unless asked
    loud = run("build", "--workspace", ws, "--dataset", "shop", "--force", "--verbose")
    assert loud.returncode == 0, loud.stderr
    for step in ("load", "embeddings", "interests", "drift_risk", "graph", "models", "write"):
        assert re.search(rf"uig_core\.build\.pipeline: step {step}: \d+\.\d\d s", loud.stderr), (step, loud.stderr)
    assert re.search(r"fit ease_recency: \d+\.\d\d s", loud.stderr)


def test_a_closed_pipe_ends_quietly(demo_workspace):
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE
    cmd = [sys.executable, "-m", "uig_core.cli.main", "interests", "--json", "--workspace", str(demo_workspace)]
    done = subprocess.run(cmd, stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=600)
    os.close(write_end)
    assert done.returncode == 0 and done.stderr == ""
    # ... and as a shell user would meet it
    shell = f"set -o pipefail; {' '.join(cmd)} | head -1"
    piped = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.strip() == "{"


def test_every_command_help_ends_with_an_example():
    from uig_core.cli.main import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse keeps them only here
    for name, sub in commands.items():
        assert f"example:\n  uig {name}" in sub.format_help(), name
