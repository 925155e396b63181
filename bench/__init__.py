"""The benchmark: the app generated at S leagues, each job against a set-based SQL reference (`make bench`)."""
