"""Errors the jobs raise, split by whether a retry can fix them."""


class PermanentJobError(Exception):
    """An error no retry can fix (bad input, bad setting, missing tool): the task fails at once.

    The DAG's retry policy names this class, so every subclass skips Airflow's retries.
    """


class ConfigError(PermanentJobError):
    """A setting or connection is missing or malformed."""


class InvalidParamsError(PermanentJobError):
    """A manual run's params are wrong (unknown job id, nothing selected)."""


class JobAlreadyRunning(Exception):
    """Another run of the same job holds its advisory lock; retrying later is the right move."""


class JobSkipped(Exception):
    """A job found nothing to do by design (off season, no live game): recorded as `skipped`."""
