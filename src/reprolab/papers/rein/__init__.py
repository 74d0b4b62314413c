"""ReIn: conversational error recovery with Reasoning Inception (arXiv 2602.17022)."""
