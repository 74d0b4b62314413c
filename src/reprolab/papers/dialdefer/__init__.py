"""DialDefer: LLM judges defer to speakers (arXiv 2601.10896)."""

# The fine-tuning mitigations, each an arm of its own (score-finetuned and train --arm).
METHODS = ("sft", "dpo")
