"""
# fantasy_frequent

The frequent jobs of the WNBA fantasy app: notifications, caches, live games, quality checks, standings.
Each Airflow task is one job of `fantasy_jobs.registry`; the table below lists them.
"""

from fantasy_jobs.dags import build_group_dag

dag = build_group_dag("frequent", doc_md=__doc__)
