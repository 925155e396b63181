"""Revisions, one file each, oldest first: `v<revision>_<slug>.py`."""
