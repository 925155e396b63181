"""Airflow plugin: registers the DAGs' custom deadline reference with the scheduler and API server.

The logic lives in `fantasy_jobs.deadlines`; Airflow core only evaluates a custom deadline
reference that a plugin lists in `deadline_references`.
"""

from airflow.plugins_manager import AirflowPlugin

from fantasy_jobs.deadlines import FantasyDeadline


class FantasyDeadlinesPlugin(AirflowPlugin):
    name = "fantasy_deadlines"
    deadline_references = [FantasyDeadline]
