"""Which tier (`tiers`), which model and in what fallback order (`policy`), and model health (`health`)."""
