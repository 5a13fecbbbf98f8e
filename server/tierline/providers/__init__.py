"""Model APIs: the interface and errors (`base`), API keys (`keys`), the OpenAI-compatible adapter (`openai`)."""
