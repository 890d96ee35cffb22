"""What every ``uig`` command shares: the workspace it opens, how it prints, its progress bar, its options."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uig_core.progress import TerminalBar
    from uig_core.store.workspace import Workspace

__all__ = ["Handler", "AddCommand", "workspace", "emit", "progress_bar", "command_adder"]

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]
#: ``add(name, handler, help_, *, example, dataset=True, json_=True) -> parser`` (see :func:`command_adder`).
AddCommand = Callable[..., argparse.ArgumentParser]


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace named by ``--workspace`` (imported here so that ``uig --help`` stays fast)."""
    from uig_core.store.workspace import Workspace

    return Workspace(args.workspace, snapshot=True)  # one command: read the registry once, refresh on writes


def emit(args: argparse.Namespace, payload: Any, text: Callable[[], str]) -> None:
    """Print ``payload`` as JSON with ``--json``, else the human-readable ``text()``."""
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        print(text())


def progress_bar(args: argparse.Namespace, desc: str) -> TerminalBar:
    """A progress bar on stderr when it is a terminal (or with ``--progress``)."""
    from uig_core.progress import TerminalBar

    shown = not getattr(args, "quiet", False) and sys.stderr.isatty() or args.progress
    return TerminalBar(desc, enabled=shown)


def command_adder(sub: argparse._SubParsersAction) -> AddCommand:
    """``add(...)``: a subcommand with the common options, and a real example ending its ``--help``."""

    def add(
        name: str, handler: Handler, help_: str, *, example: str, dataset: bool = True, json_: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "--workspace",
            default=None,
            metavar="DIR",
            help="workspace folder (default: $UIG_WORKSPACE or ./uig_workspace)",
        )
        if dataset:
            p.add_argument("--dataset", default=None, metavar="NAME", help="dataset (default: the only one)")
        if json_:
            p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        p.add_argument(
            "-v",
            "--verbose",
            action="count",
            default=0,
            help="log each step's timing on stderr (-vv: more detail; also UIG_LOG=info|debug)",
        )
        p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
        p.set_defaults(handler=handler)
        return p

    return add
