"""Use cases: each runs in one transaction that the caller commits; enqueueing happens after commit."""
