"""PARTNR with dialogue: a text household simulator, two agents, world-model alignment metrics."""
