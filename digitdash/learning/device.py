"""What training will run on, found without importing TensorFlow (for the sidebar badge)."""
from __future__ import annotations

import functools
import os
import platform
import re
import shutil
import subprocess

from digitdash.i18n import DEFAULT, t


def cpu_name(lang: str = DEFAULT) -> str:
    """The processor and its cores, e.g. 'AMD EPYC 7B13 (2 cores)' ('(2 núcleos)' in Spanish)."""
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model or platform.processor() or platform.machine()} ({cores(os.cpu_count() or 1, lang)})"


def cores(n: int, lang: str = DEFAULT) -> str:
    return t("device.one_core", lang) if n == 1 else t("device.cores", lang, n=n)


_CORES = re.compile(r"\((\d+) cores?\)$")


def said(device: str | None, lang: str = DEFAULT) -> str | None:
    """A device as a run recorded it ('CPU: AMD EPYC 7B13 (2 cores)', in English) said in `lang`."""
    if not device:
        return device
    return _CORES.sub(lambda m: f"({cores(int(m.group(1)), lang)})", str(device))


@functools.lru_cache(maxsize=1)
def gpu_names() -> tuple[str, ...]:
    """NVIDIA GPUs that nvidia-smi sees (TensorFlow needs its CUDA build to use them)."""
    if not shutil.which("nvidia-smi"):
        return ()
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in out.stdout.splitlines() if line.strip()) if out.returncode == 0 else ()


def badge(lang: str = DEFAULT) -> str:
    """What training runs on, in `lang`: the first GPU (and how many more), else the CPU and its cores."""
    gpus = gpu_names()
    if gpus:
        more = t("device.more_gpus", lang, n=len(gpus) - 1) if len(gpus) > 1 else ""
        return f"GPU: {gpus[0]}{more}"
    return f"CPU ({cores(os.cpu_count() or 1, lang)})"
