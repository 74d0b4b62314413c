"""psibench: PSI-Bench, turn-, dialogue- and population-level evaluation of depression patient
simulators (arXiv 2604.25840). See seeds/psibench.yaml and README, "The papers"."""
