"""AcquisitionSynthesis (arXiv 2605.13149): acquisition functions as GRPO rewards for a data
generator; students SFT-trained on its data."""
