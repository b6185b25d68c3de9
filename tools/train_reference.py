"""Make the reference model that ships with DigitDash (digitdash/reading/reference.py): train a preset
through the real engine (`python -m digitdash train`, in a store of its own), then keep its layers as
plain arrays and a card of what it is and what it scored in digitdash/reading/reference_model/.

    python tools/train_reference.py [--preset cnn-hands] [--data ../shared/datasets/mnist-partial]

It takes a few minutes of CPU. The card records the command, the preset's settings, the data, and the
figures the run measured (MNIST's test accuracy, the made-here drawings and other hands).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digitdash.reading import reference  # noqa: E402

KEPT_RESULTS = ("test_accuracy", "test_loss", "drawings_accuracy", "other_hands_accuracy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cnn-hands")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "mnist-partial"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    dataset = f"idx:{Path(args.data).resolve()}"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DIGITDASH_HOME": home}
        command = [sys.executable, "-m", "digitdash", "train", "--preset", args.preset, "--dataset", dataset,
                   "--name", "reference", "--json", *[a for s in args.set for a in ("--set", s)]]
        started = time.perf_counter()
        out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"training failed:\n{out.stderr[-3000:]}")
        seconds = time.perf_counter() - started
        from digitdash.runs.store import Store
        store = Store(home)
        (run,) = store.runs()
        if run["status"] != "done":
            raise SystemExit(f"the run ended {run['status']}: {run['message']}")
        layers = store.run_dir(run["id"]) / "layers.npz"
        reference.FOLDER.mkdir(exist_ok=True)
        shutil.copyfile(layers, reference.LAYERS)
        config = run["config"].replace(dataset="mnist-partial")
        card = {"preset": args.preset, "config": config.to_dict(), "params": run["params"], "flops": run["flops"],
                "data": "mnist-partial: 24,345 MNIST training images (idx), MNIST's official 10,000 test images",
                "results": {k: run["results"][k] for k in KEPT_RESULTS if run["results"].get(k) is not None},
                "made_by": "python tools/train_reference.py " + " ".join(sys.argv[1:]),
                "made": time.strftime("%Y-%m-%d"), "seconds": round(seconds, 1)}
        reference.CARD.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
        print(json.dumps({k: card[k] for k in ("preset", "results", "seconds")}, indent=1))
        print(f"kept {reference.LAYERS.relative_to(ROOT)} ({reference.LAYERS.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
