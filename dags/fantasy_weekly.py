"""
# fantasy_weekly

The weekly jobs of the WNBA fantasy app: the new fantasy week, bonuses, player profiles, cleanup.
Each Airflow task is one job of `fantasy_jobs.registry`; the table below lists them.
"""

from fantasy_jobs.dags import build_group_dag

dag = build_group_dag("weekly", doc_md=__doc__)
