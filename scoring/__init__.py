"""Pure scoring: indicator tables in, explained scores out. No databases, files, Flask or Dash."""
