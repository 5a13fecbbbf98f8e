"""What is sent to a model: the window of code around the cursor, the snippets of other files it
carries, and the chat and fill-in-the-middle shapes. The lowest layer but `wire`: the privacy
gate, the cache, the providers and the engine all read the same window from here."""
