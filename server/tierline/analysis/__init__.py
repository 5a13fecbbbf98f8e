"""The code at the cursor: documents and positions, languages and grammars, nesting, imports, the score."""
