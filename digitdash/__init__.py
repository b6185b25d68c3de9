"""DigitDash engine. Imports no Streamlit, and TensorFlow only inside the functions that need it.

A run's data flows down these sub-packages, each importing only those above it (and the shared
modules at the top: i18n, text, paths):

    plan/       what to train: the kinds of model, a run's settings and presets, the layer plan,
                families of runs, the teacher's limits, links that carry a form
    digits/     digits in: datasets decoded once, arrays, any picture made 28x28, pen strokes,
                uploads, sample pictures and handwriting made here
    runs/       runs kept: the store (SQLite and a folder per run), its tables and statuses, the
                queue's order, waits, numbers about runs (metrics)
    learning/   a run's network built and trained (Keras, NumPy, scikit-learn) from its recipe,
                knobs moved while it learns, its results, its code
    reading/    runs and trained networks read without TensorFlow: answers, inside, charts,
                compare, mistakes, lessons, the class's handwriting, the leaderboard, robustness
    workers/    who trains the runs: admission, worker processes, runs as Ray tasks
    classroom/  who a browser is, and the teacher's gate
    cli, bench  `python -m digitdash` and its benchmark

docs/architecture.md follows one run through them.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's C++ start-up chatter out
os.environ.setdefault("KERAS_BACKEND", "tensorflow")      # jax and torch work too (docs/teachers.md, GPU)
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")   # JAX: workers share one GPU

__version__ = "0.1.0"
