"""The ``uig`` command line: headless access to every step.

Every subcommand takes ``--workspace DIR`` (default ``$UIG_WORKSPACE`` or ``./uig_workspace``), ``--json`` where it
prints results, ``--verbose`` and ``--debug``. Engine errors (:class:`UIGError`) print one line and exit with
status 2; anything unexpected prints one line too (exit 1) unless ``--debug`` asks for the traceback. A reader
that closes the pipe early (``uig interests --json | head -1``) ends the command quietly.

The commands live in one module per group: :mod:`~uig_core.cli.data` (ingest, datasets, demo),
:mod:`~uig_core.cli.building` (build, builds, rollback, evaluate), :mod:`~uig_core.cli.explore` (recommend,
interests, portrait, graph) and :mod:`~uig_core.cli.serve` (app).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from uig_core.cli import building, data, explore, serve
from uig_core.cli.common import command_adder
from uig_core.errors import UIGError

__all__ = ["main", "build_parser"]

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The ``uig`` argument parser."""
    parser = argparse.ArgumentParser(prog="uig", description="UIG: user interest graphs from shop behaviour logs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add = command_adder(sub)
    for group in (data, building, explore, serve):
        group.register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``uig`` console script."""
    from uig_core import logs

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.verbose)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe surfaces here, inside the handler below, not at interpreter exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except UIGError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the one place that turns surprises into a line
        if args.debug:
            raise
        print(f"error: {type(err).__name__}: {err} (run again with --debug for the traceback)", file=sys.stderr)
        return 1


def _closed_pipe() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as the Unix tools do."""
    # Point stdout at /dev/null so that the interpreter's final flush does not raise again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
