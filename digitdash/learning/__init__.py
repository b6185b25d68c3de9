"""Learning: a run's network described once (its recipe), built and trained (Keras, NumPy, scikit-learn), knobs moved while it learns, its results, its code."""
