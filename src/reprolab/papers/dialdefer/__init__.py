"""DialDefer: LLM judges defer to speakers (arXiv 2601.10896)."""
