"""ESPN's public WNBA API: an HTTP client and validated payload models.

Import `fantasy_jobs.espn.client` and `fantasy_jobs.espn.models` inside tasks only (not at DAG
parse time): they pull in httpx and pydantic.
"""
