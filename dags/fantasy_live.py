"""
# fantasy_live

Live scoring of the WNBA fantasy app, event-driven: a watcher in Airflow's triggerer looks at ESPN's
scoreboard while a game is live or about to tip off and updates an Asset when a box score changes;
each update starts a run that stores the changed box scores and rescores just the changed lines.
Between games nothing runs. The table below lists the job.
"""

from fantasy_jobs.dags import build_group_dag

dag = build_group_dag("live", doc_md=__doc__)
