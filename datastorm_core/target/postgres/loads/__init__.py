"""The ways a run's tables get their rows into PostgreSQL (see ``base.py``)."""
