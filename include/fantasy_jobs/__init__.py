"""Scheduled jobs of the WNBA fantasy app: the job library the Airflow DAGs call.

Importing this package is cheap on purpose: DAG files import `fantasy_jobs.registry` at parse
time, so nothing here may import SQLAlchemy models, open a connection or read a Variable.
"""
