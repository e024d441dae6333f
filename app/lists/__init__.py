"""The one list component of every staff list (spec.py) and its batch work (batch.py)."""
