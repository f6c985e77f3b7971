"""datastorm inside Dagster: every Genfile table a software-defined asset (coming next)."""
