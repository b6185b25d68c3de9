"""DigitDash engine: datasets, run configurations, models, training, the run store and jobs.

Imports no Streamlit, and TensorFlow only inside the functions that need it.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's C++ start-up chatter out
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
