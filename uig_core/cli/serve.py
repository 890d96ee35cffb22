"""``uig app``: serve the dashboard over a workspace."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from uig_core.cli.common import AddCommand

__all__ = ["register"]

log = logging.getLogger(__name__)

#: The Streamlit router at the repository root.
APP_FILE = Path(__file__).resolve().parents[2] / "app.py"


def cmd_app(args: argparse.Namespace) -> int:
    """Run Streamlit on the dashboard, with the workspace in ``UIG_WORKSPACE``."""
    import subprocess

    env = {**os.environ, "UIG_WORKSPACE": str(Path(args.workspace or "uig_workspace").resolve())}
    if args.verbose:
        env["UIG_LOG"] = "debug" if args.verbose > 1 else "info"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_FILE),
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    print(f"serving UIG on http://{args.address}:{args.port} (workspace {env['UIG_WORKSPACE']})", flush=True)
    return subprocess.call(cmd, env=env)


def register(add: AddCommand) -> None:
    """Add ``app`` to the ``uig`` parser."""
    p = add(
        "app",
        cmd_app,
        "Serve the dashboard over the workspace.",
        dataset=False,
        json_=False,
        example="uig app --workspace uig_workspace --port 8501",
    )
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost", help="bind address (default localhost)")
