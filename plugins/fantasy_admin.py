"""Airflow plugin: the job-centric admin API and the "Jobs" page, mounted at /fantasy.

The logic lives in `fantasy_jobs.admin`; this file only registers it with Airflow.
"""

from airflow.plugins_manager import AirflowPlugin

from fantasy_jobs.admin import PREFIX, app
from fantasy_jobs.ui_timezone import LeagueTimezoneDefault


class FantasyAdminPlugin(AirflowPlugin):
    name = "fantasy_admin"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "Fantasy jobs admin"}]
    # the UI's times in league time until a user picks another zone (see fantasy_jobs.ui_timezone)
    fastapi_root_middlewares = [
        {"middleware": LeagueTimezoneDefault, "name": "League time as the UI's default"}
    ]
    external_views = [
        {
            # short enough for the nav rail ("Fantasy jobs" was cut); Airflow's own scheduler Jobs
            # list stays under Browse, so a top-level "Jobs" does not clash with it
            "name": "Jobs",
            "href": "fantasy/jobs",  # relative: works behind a reverse proxy
            "url_route": "fantasy-jobs",
            "destination": "nav",
        }
    ]
