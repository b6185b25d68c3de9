"""TensorFlow loaded once per process, quietly: its start-up lines hidden, its errors shown.

Called just before a process first needs Keras on TensorFlow (a training command, a worker's first
Keras run), so a worker that trains only baselines, or waits, never loads it (seconds and some
700 MB)."""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile

# C++ log lines as absl writes them (severity, date, time, thread, file:line]) and the lines TensorFlow
# writes when it loads: info and warnings are chatter; errors are kept but for the known harmless ones.
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")
_CHATTER = re.compile(r"All log messages before absl::InitializeLog|oneDNN custom operations|"
                      r"This TensorFlow binary is optimized|rebuild TensorFlow with the appropriate compiler|"
                      r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
                      r"TF-TRT Warning")
_NO_GPU = re.compile(r"failed call to cuInit|Cannot dlopen some GPU libraries")  # chatter where there is no GPU
_quieted = False


def chatter(line: str, has_gpu: bool = False) -> bool:
    """Whether a line TensorFlow wrote while it loaded is start-up chatter (not an error to show)."""
    if _NO_GPU.search(line):            # on a machine with an NVIDIA GPU: why training runs on the CPU
        return not has_gpu
    severity = _ABSL_LINE.match(line)
    return bool(_CHATTER.search(line) or (severity and severity.group(1) in "IW"))


def quiet_tensorflow() -> None:
    """Load TensorFlow (when it is Keras' backend) with this process's stderr in a file, then write back
    all but its start-up chatter; its Python loggers then say errors only (no retracing warnings).
    Once per process; a command that trains calls it first. TF_CPP_MIN_LOG_LEVEL (digitdash/__init__)
    does not reach the lines TensorFlow 2.21 writes before it sets up its logging."""
    global _quieted
    if _quieted or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    _quieted = True
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    try:      # in memory, not on disk: a full disk must still give its one clear line
        held = os.fdopen(os.memfd_create("digitdash-stderr"), "w+b") if hasattr(os, "memfd_create") \
            else tempfile.TemporaryFile()
    except OSError:
        return
    saved = os.dup(2)
    try:
        with held:
            os.dup2(held.fileno(), 2)
            try:
                import tensorflow as tf
                tf.config.list_physical_devices("GPU")     # CUDA's first look at the machine writes too
            except Exception:   # noqa: BLE001 - TensorFlow fails to load: the command says so when it needs it
                pass
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
            held.seek(0)
            written = held.read().decode("utf-8", "replace").splitlines()
    finally:
        os.close(saved)
    if written:
        from digitdash.learning.device import gpu_names
        has_gpu = any(_NO_GPU.search(line) for line in written) and bool(gpu_names())
        kept = [line for line in written if line.strip() and not chatter(line, has_gpu)]
        if kept:
            print("\n".join(kept), file=sys.stderr, flush=True)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)     # "... triggered tf.function retracing"
    try:
        from absl import logging as absl_logging
        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
