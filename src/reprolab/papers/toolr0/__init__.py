"""Tool-R0: generator/solver self-play GRPO for tool calling, with tools that really run.

Kept free of imports: the sandbox worker imports `reprolab.papers.toolr0.tools` through it.
"""
