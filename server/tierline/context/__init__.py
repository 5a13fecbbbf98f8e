"""Cross-file context: what of the rest of the workspace goes into a prompt, within a tier's budget.

One concept per module: `snippet` (what is sent), `workspace` (which files may give snippets),
`symbols` (identifiers and the names the code at the cursor needs), `definitions` (tree-sitter
definitions of a file), `index` (the workspace's definitions, built in the background),
`neighbours` (windows of open and recent documents similar to the cursor's code), `recent_edits`
(a ring of changed chunks), `budget` (ranking and cutting to a tier's tokens), `gather` (the
sources together, for the pipeline).
"""
