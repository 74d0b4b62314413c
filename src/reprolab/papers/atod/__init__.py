"""ATOD: agentic task-oriented dialogue generation, ATOD-Eval and a memory-based evaluator."""
