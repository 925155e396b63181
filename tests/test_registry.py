"""The registry: README table in sync, heavy jobs never scheduled on top of each other."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from fantasy_jobs.registry import GROUPS, JOBS, get_job, schedule_conflicts, schedule_markdown
from tests.conftest import REPO


def test_readme_embeds_the_current_schedule_table():
    readme = (REPO / "README.md").read_text()
    embedded = re.search(r"<!-- schedule:start -->\n(.*?)<!-- schedule:end -->", readme, re.S)
    assert embedded, "README lacks the schedule markers"
    assert embedded.group(1) == schedule_markdown(), "run `make schedule-table` and paste it into the README"


def test_job_ids_are_unique_and_groups_known():
    assert len({job.id for job in JOBS}) == len(JOBS)
    assert {job.group for job in JOBS} <= set(GROUPS)


def test_registered_heavy_jobs_do_not_overlap():
    assert schedule_conflicts() == []


def test_conflict_check_finds_overlapping_heavy_jobs():
    backup = get_job("backup_database")  # 02:00 daily, 10 min expected
    clash = replace(
        get_job("reset_weekly_moves"),
        id="clash",
        pool="fantasy_db_heavy",
        cron="5 2 * * 1",
        expected=timedelta(minutes=20),
    )
    later = replace(clash, id="later", cron="30 2 * * 1")
    found = schedule_conflicts([backup, clash, later])
    # clash starts inside the backup's window; later starts after clash ends, so it is no conflict
    assert found == ["backup_database (Mon 02:00-02:10) overlaps clash (from Mon 02:05)"]
