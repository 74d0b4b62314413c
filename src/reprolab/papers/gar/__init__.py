"""gar: goal accessibility ratio, sliding-window closure, crossover law, residual probes."""
