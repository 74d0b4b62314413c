"""DialDefer: LLM judges defer to speakers (arXiv 2601.10896)."""

# The fine-tuning mitigations, each an arm of its own (judge --arm, train --method).
METHODS = ("sft", "dpo")
