"""The request pipeline (`pipeline`), per-request state (`request`), per-document state (`session`), prompts and post-processing."""
