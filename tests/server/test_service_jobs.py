"""The served process forgets old finished jobs, never queued or running ones."""

from __future__ import annotations

from pathlib import Path

from kgrag.core.settings import Settings
from kgrag.server.service import KEPT_FINISHED_JOBS, Job, Service


def test_only_the_newest_finished_jobs_are_kept(tmp_path: Path):
    service = Service(Settings(home=tmp_path))
    try:
        running = Job("job-running", "ws", "/x", state="running")
        service._jobs[running.id] = running
        for n in range(KEPT_FINISHED_JOBS + 5):
            job = Job(f"job-{n}", "ws", "/x", state="done", finished_at=1000.0 + n)
            service._jobs[job.id] = job
        service._forget_old_jobs()
        assert service.job("job-running") is running
        assert service.job("job-0") is None and service.job("job-5") is None
        assert service.job(f"job-{KEPT_FINISHED_JOBS + 4}") is not None
        finished = [j for j in service._jobs.values() if j.finished_at is not None]
        assert len(finished) == KEPT_FINISHED_JOBS - 1  # room for the job being submitted
    finally:
        service.close()
