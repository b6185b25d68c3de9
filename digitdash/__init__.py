"""DigitDash engine. Imports no Streamlit, and TensorFlow only inside the functions that need it.

The modules, in the order data flows through them (each imports only modules above it in its
own group or in an earlier group):

    what a run is      kinds (mlp, cnn, the baselines), config (RunConfig, bounds, presets),
                       architecture (the layer plan: shapes, params, FLOPs)
    data in            datasets (names -> uint8 arrays, once per process), arrays (validation
                       split, flat pixels, cross-entropy), strokes (stroke width, MNIST's pen),
                       preprocess (any picture -> 28x28), uploads (an upload read once, by
                       its content's hash)
    networks           models (Keras from the plan), numpy_mlp (from scratch), baselines
                       (scikit-learn and NumPy runs), training (a Keras run), results (Listener,
                       Outcome, evaluation: what every kind gives back)
    runs               store (SQLite + artifacts), limits (the teacher's rules), estimate (waits),
                       handwriting (the class's labelled drawings; a run's answers to them, through
                       predict, imported when a score is asked for), controls (pause, resume, a
                       new learning rate while a run trains), jobs (admission, the Runner, worker
                       processes), ray_runner (runs as Ray tasks), runners (which one the setting
                       names), experiments (families), lessons (a family's conclusion, the notebooks'
                       figures), share (a form or a selection as link parameters), export (a run
                       as a notebook or a script)
    what pages show    metrics, charts/ (Plotly figures), compare, mistakes (the digits behind a
                       confusion cell), leaderboard, inside (weights, activations, saliency,
                       maps), forward (a stored network without TensorFlow), predict (stored
                       models answering)
    around them        i18n (catalogues, Message), text (what people type: stored clean, shown as
                       typed), identity (signed student ids), teacher_gate (the teacher's link,
                       password and rights), paths, device,
                       cli, bench, synthetic (non-MNIST handwriting made here), robustness,
                       samples (pictures made here for Draw)
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's C++ start-up chatter out
os.environ.setdefault("KERAS_BACKEND", "tensorflow")      # jax and torch work too (docs/teachers.md, GPU)
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")   # JAX: workers share one GPU

__version__ = "0.1.0"
