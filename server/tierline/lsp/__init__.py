"""LSP handlers (`server`) and the stdio transport (`transport`): LSP types in, engine calls out."""
