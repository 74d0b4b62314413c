"""Do We Need Adam? Surprisingly Strong and Sparse RL with SGD in LLMs (arXiv 2602.07729)."""
