"""`tierline bench`: hide code that exists, ask models for it, compare (commands/bench.py)."""
