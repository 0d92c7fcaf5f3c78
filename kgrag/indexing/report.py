"""What an ingestion did, per batch and in total."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class BatchStats:
    """What one batch write did; the flow merges these into its report."""

    indexed: int = 0
    unchanged: int = 0
    replaced: int = 0
    chunks: int = 0
    stages: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


@dataclass
class IngestReport(BatchStats):
    workspace: str = ""
    files: int = 0
    entities: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    repaired: int = 0  # incomplete documents a crash had left, removed by reconcile
    problems: list[str] = field(default_factory=list)  # what `kgrag doctor` should look at
    seconds: float = 0.0

    def merge(self, batch: BatchStats) -> None:
        self.indexed += batch.indexed
        self.unchanged += batch.unchanged
        self.replaced += batch.replaced
        self.chunks += batch.chunks
        for stage, seconds in batch.stages.items():
            self.add_time(stage, seconds)

    @property
    def exit_code(self) -> int:
        """0: every file ingested or unchanged; 2: some failed, the rest went in;
        1: files were given and none could be ingested."""
        if not self.failed:
            return 0
        return 2 if self.indexed + self.unchanged > 0 else 1

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def summary(self) -> str:
        """A markdown summary (the flow's Prefect artifact)."""
        lines = [
            f"# kgrag ingest: workspace `{self.workspace}`",
            "",
            "| files | indexed | unchanged | replaced | chunks | failed | seconds |",
            "|---|---|---|---|---|---|---|",
            f"| {self.files} | {self.indexed} | {self.unchanged} | {self.replaced} | "
            f"{self.chunks} | {len(self.failed)} | {self.seconds:.1f} |",
        ]
        if self.failed:
            lines += ["", "## Failed", "", "| file | reason |", "|---|---|"]
            lines += [f"| {path} | {_cell(reason)} |" for path, reason in self.failed]
        if self.problems:
            lines += ["", "## Problems (run `kgrag doctor --repair`)", ""]
            lines += [f"- {problem}" for problem in self.problems]
        if self.stages:
            lines += ["", "## Seconds per stage", ""]
            lines += [f"- {stage}: {secs:.2f}" for stage, secs in self.stages.items()]
        return "\n".join(lines)


@dataclass
class SyncReport:
    """One sync of a watched folder: what changed in the workspace, file by file."""

    workspace: str
    folder: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unchanged: int = 0
    seconds: float = 0.0

    @property
    def processed(self) -> int:
        """Files that went in, were already in, or were removed."""
        return len(self.added) + len(self.updated) + len(self.deleted) + self.unchanged

    def markdown(self) -> str:
        """The run's Prefect artifact."""
        lines = [
            f"# kgrag sync: `{self.folder}` -> workspace `{self.workspace}`",
            "",
            "| added | updated | deleted | unchanged | failed | seconds |",
            "|---|---|---|---|---|---|",
            f"| {len(self.added)} | {len(self.updated)} | {len(self.deleted)} | "
            f"{self.unchanged} | {len(self.failed)} | {self.seconds:.1f} |",
        ]
        for title, paths in (
            ("Added", self.added),
            ("Updated", self.updated),
            ("Deleted", self.deleted),
        ):
            if paths:
                lines += ["", f"## {title}", "", *(f"- {p}" for p in paths)]
        if self.failed:
            lines += ["", "## Failed", "", "| file | reason |", "|---|---|"]
            lines += [f"| {p} | {_cell(reason)} |" for p, reason in self.failed]
        return "\n".join(lines)


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
