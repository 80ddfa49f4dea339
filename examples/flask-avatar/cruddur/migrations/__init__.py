"""Migration files, applied in version order by cruddur.migrate (not imported as modules)."""
