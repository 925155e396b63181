"""
# fantasy_daily

The nightly chain of the WNBA fantasy app: backup, then ingestion, scoring and analytics.
Each Airflow task is one job of `fantasy_jobs.registry`; the table below lists them.
"""

from fantasy_jobs.dags import build_group_dag

dag = build_group_dag("daily", doc_md=__doc__)
