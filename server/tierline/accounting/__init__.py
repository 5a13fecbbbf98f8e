"""What requests cost and keep: the answer cache, the ledger, the budget, behind `books.Books` that never costs an answer."""
