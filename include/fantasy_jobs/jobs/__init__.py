"""The job functions, one module per area. Each takes a `JobContext` and returns a `JobResult`."""
