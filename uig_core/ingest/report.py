"""What an ingest read, kept, relabelled and skipped: :class:`IngestReport`, and :class:`IngestResult`.

Nothing is dropped silently: every skipped or relabelled row is counted, with a few examples naming the row number
(1-based data rows, header not counted) and the offending value.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

__all__ = ["IngestReport", "IngestResult", "MAX_TITLE_CHARS", "EXAMPLES_PER_REASON", "page_wording"]

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 500
EXAMPLES_PER_REASON = 3  # examples kept per skip reason


@dataclass
class IngestReport:
    """What the ingest read, kept, relabelled and skipped (and why)."""

    file: str = ""
    rows_read: int = 0
    rows_accepted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    returns: int = 0
    nonpositive_price: int = 0
    duplicates: int = 0
    truncated_titles: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    encoding: str = ""
    delimiter: str = ""
    timestamp_format: str = ""
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int, examples: list[str] | None = None) -> None:
        """Count ``count`` rows skipped for ``reason`` and keep a few examples."""
        if count <= 0:
            return
        self.skipped[reason] = self.skipped.get(reason, 0) + int(count)
        kept = self.examples.setdefault(reason, [])
        kept.extend((examples or [])[: EXAMPLES_PER_REASON - len(kept)])

    def merge(self, part: IngestReport) -> None:
        """Add the findings of one part of a file read in parts (counts add up; a few examples are kept)."""
        for key in ("rows_read", "rows_accepted", "returns", "nonpositive_price", "duplicates", "truncated_titles"):
            setattr(self, key, getattr(self, key) + getattr(part, key))
        for reason, n in part.skipped.items():
            self.skip(reason, n, part.examples.get(reason, []))
        for event, n in part.events.items():
            self.events[event] = self.events.get(event, 0) + n
        self.mapping = self.mapping or dict(part.mapping)
        self.extra_columns = self.extra_columns or list(part.extra_columns)
        self.encoding, self.delimiter = self.encoding or part.encoding, self.delimiter or part.delimiter
        if part.timestamp_format and self.timestamp_format and part.timestamp_format != self.timestamp_format:
            note = (
                f"timestamps are written in more than one format ({self.timestamp_format!r} and "
                f"{part.timestamp_format!r} in different parts of the file); each part was read in its own format"
            )
            if note not in self.warnings:
                self.warnings.append(note)
        self.timestamp_format = self.timestamp_format or part.timestamp_format
        self.warnings.extend(w for w in part.warnings if w not in self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: v for k, v in self.__dict__.items()}

    def lines(self) -> list[str]:
        """Human-readable summary, one finding per line."""
        out = [f"{self.rows_read:,} rows read, {self.rows_accepted:,} accepted"]
        if self.events:
            out.append("events: " + ", ".join(f"{k} {v:,}" for k, v in self.events.items()))
        for reason, n in self.skipped.items():
            ex = "; ".join(self.examples.get(reason, []))
            out.append(f"skipped {n:,} rows: {reason}" + (f" (e.g. {ex})" if ex else ""))
        if self.returns:
            out.append(f"{self.returns:,} rows with negative quantity kept as 'return' events (not positive edges)")
        if self.nonpositive_price:
            out.append(f"{self.nonpositive_price:,} purchase rows with price <= 0 kept as 'adjustment' (not purchases)")
        if self.duplicates:
            out.append(f"{self.duplicates:,} exact duplicate rows removed")
        if self.truncated_titles:
            out.append(f"{self.truncated_titles:,} titles longer than {MAX_TITLE_CHARS} characters truncated")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


#: The command line's options, as the Upload page's widgets name them (the cleaner's messages speak CLI).
_PAGE_WORDS = (
    (re.compile(r"\(map it with --event-map VALUE=EVENT\)"), "(map each value under Event values above)"),
    (re.compile(r"--event-map (\S+?)=(\S+?):"), r"event value \1 mapped to \2:"),
    (re.compile(r"does not match --item-pattern"), "does not match the pattern under More options"),
    (re.compile(r"Name one with --map COLUMN=(\w+)\."), r"Choose its column for '\1' under Columns."),
    (re.compile(r"--map (\S+?)=(\w+):"), r"column \1 chosen for '\2':"),
    (re.compile(r"e\.g\. --map (\S+?)=(\w+)"), r"e.g. choose \1 for '\2' under Columns"),
)


def page_wording(text: str) -> str:
    """A cleaning message reworded for the Upload page: options named as its widgets, not as CLI flags."""
    for pattern, words in _PAGE_WORDS:
        text = pattern.sub(words, text)
    return text


@dataclass
class IngestResult:
    """The canonical events frame and its report."""

    events: pd.DataFrame
    report: IngestReport

    def for_page(self) -> IngestResult:
        """The same result with the report's reasons and warnings in the Upload page's words (events shared)."""
        rep = self.report
        reworded = replace(
            rep,
            skipped={page_wording(k): v for k, v in rep.skipped.items()},
            examples={page_wording(k): list(v) for k, v in rep.examples.items()},
            warnings=[page_wording(w) for w in rep.warnings],
        )
        return IngestResult(self.events, reworded)
