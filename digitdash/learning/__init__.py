"""Learning: a run's network built and trained (Keras, NumPy, scikit-learn), knobs moved while it learns, its results and figures, its code."""
