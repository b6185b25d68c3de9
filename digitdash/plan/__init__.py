"""What to train: the kinds of model, a run's settings and presets, the layer plan, families of runs, the teacher's limits, links."""
