"""`python -m digitdash`: train, reproduce, export, runs, show, predict, delete, bench, robustness, handwriting,
teacher-link (and the worker).

Bad input exits with code 2 and one line on stderr. TensorFlow's start-up chatter stays out of it
(`quiet_tensorflow`); its errors do not.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from digitdash.digits import datasets
from digitdash.digits.preprocess import ImageError
from digitdash.i18n import Problem
from digitdash.learning.tensorflow_start import quiet_tensorflow
from digitdash.plan.config import DEFAULT_DATASET, PRESETS, ConfigError, RunConfig, preset
from digitdash.plan.limits import LimitError
from digitdash.runs.store import ACTIVE, TEACHER, TRAINED, Store, StoreError
from digitdash.workers import choice
from digitdash.workers.admission import admit
from digitdash.workers.runners import ForegroundRunner


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit code 2
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m digitdash", description="DigitDash from the command line.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train a run in the foreground and store it")
    t.add_argument("--dataset", default=DEFAULT_DATASET)
    t.add_argument("--preset", choices=sorted(PRESETS), metavar="NAME", help=", ".join(PRESETS))
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings")
    t.add_argument("--name")
    t.add_argument("--owner", default=TEACHER, help="who the run belongs to (default: the teacher, "
                   "who is not held to the limits)")
    t.add_argument("--runner", choices=("local", "ray"), help="local: trained here, in this process; "
                   "ray: a Ray task (RAY_ADDRESS, or a local Ray). Default: DIGITDASH_RUNNER, else local")
    t.add_argument("--json", action="store_true")
    e = sub.add_parser("experiment", help="train a family of runs, one or two knobs varied")
    e.add_argument("--dataset", default=DEFAULT_DATASET)
    e.add_argument("--template", metavar="NAME", help="one of: neurons, activation, initializer, optimizer, epochs")
    e.add_argument("--preset", choices=sorted(PRESETS), metavar="NAME")
    e.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...")
    e.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings")
    e.add_argument("--owner", default=TEACHER)
    e.add_argument("--json", action="store_true")
    rp = sub.add_parser("reproduce", help="the notebooks' families and final network: their figures beside ours")
    rp.add_argument("--dataset", default=DEFAULT_DATASET)
    rp.add_argument("--json", action="store_true")
    ex = sub.add_parser("export", help="a Keras run as a Jupyter notebook and/or a plain Python script")
    ex.add_argument("run")
    ex.add_argument("--notebook", metavar="FILE.ipynb")
    ex.add_argument("--script", metavar="FILE.py")
    ex.add_argument("--lang", choices=("en", "es"), default="en", help="the language of the explanations")
    r = sub.add_parser("runs", help="list stored runs")
    r.add_argument("--archived", action="store_true", help="list the archived runs (put away by `archive`) instead")
    r.add_argument("--json", action="store_true")
    s = sub.add_parser("show", help="one run in full")
    s.add_argument("run")
    s.add_argument("--json", action="store_true")
    pr = sub.add_parser("predict", help="predict the digit in image files")
    pr.add_argument("--run", required=True)
    pr.add_argument("--json", action="store_true")
    pr.add_argument("images", nargs="+", metavar="IMAGE")
    d = sub.add_parser("delete", help="delete a run and its files")
    d.add_argument("run")
    b = sub.add_parser("bench", help="measure DigitDash's overheads against bare Keras")
    b.add_argument("--dataset", default=DEFAULT_DATASET)
    b.add_argument("--epochs", type=int, default=2)
    b.add_argument("--sessions", type=int, default=30, help="browser sessions of the server load test")
    b.add_argument("--submitters", type=int, default=10, help="sessions among them that submit training")
    b.add_argument("--no-server", action="store_true", help="skip the server figures (page tour and load test)")
    b.add_argument("--class-runs", type=int, default=30, help="runs of the class figure (0 skips it)")
    b.add_argument("--ray-runs", type=int, default=10, help="small runs of the Ray overhead figure (0 skips it)")
    b.add_argument("--lesson-runs", default="300,1000",
                   help="store sizes of the lesson-end figures, comma-separated ('' skips them)")
    b.add_argument("--lesson-archived", type=int, default=5000, help="archived runs beside the first lesson size")
    b.add_argument("--lesson-seconds", type=float, default=120.0, help="how long the class clicks at each size")
    b.add_argument("--json", action="store_true")
    ar = sub.add_parser("archive", help="put every finished run away as one archive (a lesson), list the archives, "
                                        "bring one back")
    ar.add_argument("name", nargs="?", help="the archive's name (default: Lesson of DATE TIME)")
    ar.add_argument("--list", action="store_true", help="list the archives")
    ar.add_argument("--back", type=int, metavar="ID", help="bring archive ID's runs back")
    ar.add_argument("--json", action="store_true")
    rb = sub.add_parser("robustness", help="accuracy on non-MNIST handwriting: pipeline vs plain resize")
    rb.add_argument("--run", required=True)
    rb.add_argument("--per-class", type=int, default=30, help="pictures of each digit in each source (1-500)")
    rb.add_argument("--seed", type=int, default=1, help="which pictures are made (the same seed, the same set)")
    rb.add_argument("--json", action="store_true")
    hw = sub.add_parser("handwriting", help="the class's own labelled drawings: add, list, delete, score a run")
    hsub = hw.add_subparsers(dest="action", required=True, parser_class=_Parser)
    ha = hsub.add_parser("add", help="add pictures of one digit each, labelled")
    ha.add_argument("--label", type=int, required=True, choices=range(10), metavar="D", help="the digit (0-9)")
    ha.add_argument("--owner", default=TEACHER, help="whose drawings they are (default: the teacher)")
    ha.add_argument("--json", action="store_true")
    ha.add_argument("images", nargs="+", metavar="IMAGE")
    hl = hsub.add_parser("list", help="the stored drawings")
    hl.add_argument("--json", action="store_true")
    hd = hsub.add_parser("delete", help="delete drawings by id")
    hd.add_argument("ids", nargs="+", type=int, metavar="ID")
    hs = hsub.add_parser("score", help="how many of the class's drawings a run reads right")
    hs.add_argument("--run", required=True)
    hs.add_argument("--json", action="store_true")
    tl = sub.add_parser("teacher-link", help="print the teacher's link (it unlocks teacher rights in the browser "
                        "that opens it)")
    tl.add_argument("--url", default="http://localhost:8501", metavar="BASE",
                    help="the address students open (default: http://localhost:8501)")
    tl.add_argument("--new", action="store_true", help="a new key first: the old link stops working and every "
                    "teacher browser is signed out")
    w = sub.add_parser("worker")           # started by the runner, never by a person: left out of --help
    w.add_argument("--slot", type=int, default=0)
    w.add_argument("--ray", action="store_true", help="the Ray dispatcher instead of a local worker")
    sub._choices_actions = [a for a in sub._choices_actions if a.dest != "worker"]
    sub.metavar = "{" + ",".join(name for name in sub.choices if name != "worker") + "}"
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, datasets.DatasetError, StoreError, LimitError, Problem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def parse_settings(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set takes KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def cmd_train(args) -> int:
    base = preset(args.preset) if args.preset else RunConfig()
    config = base.with_settings(parse_settings(args.settings)).replace(dataset=args.dataset)
    data = datasets.load(args.dataset)        # bad names and missing data fail here, before a run exists
    config.validate(data.num_classes)
    out = sys.stderr if args.json else sys.stdout
    name = args.name or (f"{args.preset} (cli)" if args.preset else None)
    owner = _owner(args.owner)
    if (args.runner or choice.setting()) == "ray":
        store, run_id = _through_ray(config, name, owner, out)
        run = store.get(run_id)
    else:
        runner = _runner(out)
        store = runner.store
        admit(store, [config], owner)      # a refusal needs no TensorFlow: said before it loads (seconds)
        quiet_tensorflow()
        run = store.get(runner.submit(config, name=name, owner=owner))
    if args.json:
        print(json.dumps(_run_json(store, run)))
    else:
        res = run["results"]
        print(f"{run['status']}: test accuracy {res.get('test_accuracy', float('nan')):.4f}, "
              f"test loss {res.get('test_loss', float('nan')):.4f}. {run['message']}".strip())
    return 0 if run["status"] in TRAINED else 1


def _owner(name: str) -> str:
    name = " ".join(str(name).split())[:40]
    if not name:
        raise UsageError("--owner needs a name")
    return name


def _through_ray(config, name, owner, out) -> tuple[Store, str]:
    """Submit to the Ray runner and follow the run here, one line per epoch, until it ends
    (Ctrl-C asks it to stop)."""
    runner = choice.chosen(Store(), "ray")
    run_id = runner.submit(config, name=name, owner=owner)
    print(f"run {run_id}: {config.summary()} on {config.dataset}, through Ray", file=out, flush=True)
    shown = 0
    try:
        while True:
            try:
                run = runner.store.get(run_id)
                for row in runner.store.epochs(run_id)[shown:]:
                    _echo(out, config, row)
                    shown += 1
                if run["status"] not in ACTIVE:
                    return runner.store, run_id
                time.sleep(0.5)
            except KeyboardInterrupt:
                runner.stop(run_id)
    finally:
        if not runner.store.queue():
            runner.shutdown()     # the dispatcher this command started (and its local Ray) end with it


def _echo(out, config, row) -> None:
    val = (f"  val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}"
           if row.get("val_loss") is not None else "")
    print(f"epoch {row['epoch']}/{config.epochs}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}"
          f"{val}  {row['seconds']:.1f}s", file=out, flush=True)


def _runner(out) -> ForegroundRunner:
    """Runs trained here and now, one line per epoch to out. Networks that cannot be built and,
    for a named student, the class's limits are refused before a run exists."""
    def start(run_id, config):
        print(f"run {run_id}: {config.summary()} on {config.dataset}", file=out, flush=True)

    return ForegroundRunner(Store(), on_start=start, on_epoch=lambda config, row: _echo(out, config, row))


def cmd_experiment(args) -> int:
    from digitdash.plan import experiments
    if bool(args.template) == bool(args.vary):
        raise UsageError("experiment takes either --template NAME or --vary KEY=V1,V2 (one or two)")
    if args.template:
        base, vary = experiments.template(args.template, args.dataset)
        title = args.template
    else:
        base = (preset(args.preset) if args.preset else RunConfig()).replace(dataset=args.dataset)
        vary = experiments.parse_vary(args.vary, base)
        title = "vary " + " x ".join(vary)
    base = base.with_settings(parse_settings(args.settings))
    data = datasets.load(args.dataset)
    for c in experiments.expand(base, vary):
        c.validate(data.num_classes)
    owner = _owner(args.owner)
    runner = _runner(sys.stderr if args.json else sys.stdout)
    admit(runner.store, experiments.expand(base, vary), owner)    # refused whole, before TensorFlow loads
    quiet_tensorflow()
    _, ids = experiments.launch(runner, base, vary, title, owner=owner)
    runs = [runner.store.get(i) for i in ids]
    if args.json:
        print(json.dumps([_run_json(runner.store, r) for r in runs]))
    else:
        for r in runs:
            acc = r["results"].get("test_accuracy")
            print(f"{r['name']:<45} {r['status']:<9} test accuracy {acc if acc is None else round(acc, 4)}")
    return 0


def cmd_reproduce(args) -> int:
    """Train the five notebook families and the final network (as the teacher), then print the
    notebooks' test accuracy beside ours and each family's conclusion."""
    from digitdash.plan import experiments
    from digitdash.reading import lessons
    datasets.load(args.dataset)
    quiet_tensorflow()
    runner = _runner(sys.stderr)
    rows, said = [], {}
    for family in lessons.FAMILIES:
        base, vary = experiments.template(family, args.dataset)
        _, ids = experiments.launch(runner, base, vary, family)
        runs = [runner.store.get(i) for i in ids]
        rows += lessons.reproduction_rows(family, runs, args.dataset)
        said[family] = [str(m) for m in lessons.conclusion(runs, runner.store.epochs)]
    final = runner.store.get(runner.submit(preset("mlp-512-128-dropout").replace(dataset=args.dataset),
                                           name="mlp-512-128-dropout"))
    rows += lessons.reproduction_rows("mlp-512-128-dropout", [final], args.dataset)
    if args.json:
        print(json.dumps({"rows": rows, "conclusions": said}))
        return 0
    print("| family | run | learning rate | notebook | ours | dataset | epochs |\n| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        ours = "-" if row["ours"] is None else f"{row['ours']:.4f}"
        print(f"| {row['family']} | {row['run']} | {row['learning_rate']:g} | {row['notebook']} | {ours} "
              f"| {row['dataset']} | {row['epochs']} |")
    for family, lines in said.items():
        print(f"\n{family}: " + " ".join(lines))
    return 0


def cmd_export(args) -> int:
    from digitdash.learning import controls, export
    if not (args.notebook or args.script):
        raise UsageError("export takes --notebook FILE.ipynb and/or --script FILE.py")
    store = Store()
    run = store.get(args.run)
    changes = controls.changes(store, run["id"])       # a learning rate changed while it trained
    outputs = [(args.notebook, export.notebook), (args.script, export.script)]
    # refused before any file is written; on the server, the code may load a folder by its path
    texts = [(path, make(run, args.lang, server_paths=True, changes=changes)) for path, make in outputs if path]
    for path, text in texts:
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from None
        print(f"wrote {path}")
    return 0


def _run_json(store: Store, run: dict, full: bool = False) -> dict:
    res = run["results"]
    out = {"id": run["id"], "name": run["name"], "group": run["grp"], "status": run["status"],
           "message": run["message"], "owner": store.owner_name(run["owner"]),
           "dataset": run["dataset"], "kind": run["config"].architecture, "library": run["library"],
           "device": run["device"],
           "runner": run["info"].get("runner"), "node": run["info"].get("node"),
           "params": run["params"], "flops": run["flops"], "epochs_run": res.get("epochs_run"),
           "test_accuracy": res.get("test_accuracy"), "test_loss": res.get("test_loss"),
           "config": run["config"].to_dict(), "created": run["created"], "finished": run["finished"]}
    epochs = store.epochs(run["id"])
    if epochs:
        out.update({k: epochs[-1][k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
    if full:
        out["epochs"] = epochs
        out["results"] = res
    return out


def cmd_archive(args) -> int:
    """The teacher's archives from the command line (the command line acts for the teacher)."""
    import time

    from digitdash.i18n import t
    store = Store()
    if args.back is not None:
        back = store.unarchive(args.back)
        print(json.dumps({"archive": args.back, "runs": back}) if args.json else f"{back} run(s) are back.")
        return 0
    if not args.list:
        name = args.name or t("teacher.archive_default", date=time.strftime("%Y-%m-%d %H:%M"))
        archive_id, moved = store.archive(name)
        if not args.json:
            print(f"{moved} run(s) archived as {name} (archive {archive_id}; bring them back with "
                  f"python -m digitdash archive --back {archive_id}).")
            return 0
    archives = store.archives()
    if args.json:
        print(json.dumps(archives))
    for a in [] if args.json else archives:
        print(f"{a['id']:>4}  {a['runs']:>5} run(s)  {time.strftime('%Y-%m-%d %H:%M', time.localtime(a['created']))}  {a['name']}")
    if not archives and not args.json:
        print("No archive yet. Archive the finished runs: python -m digitdash archive \"NAME\"")
    return 0


def cmd_runs(args) -> int:
    store = Store()
    store.reap()
    runs = [_run_json(store, r) for r in store.runs(archived=args.archived)]
    if args.json:
        print(json.dumps(runs))
        return 0
    if not runs:
        print("No runs yet. Train one: python -m digitdash train --preset mlp-512")
    for r in runs:
        acc = f"{r['test_accuracy']:.4f}" if r["test_accuracy"] is not None else "-"
        print(f"{r['id']}  {r['status']:<11} {acc:>7}  {r['dataset']:<12} {r['name']}")
    return 0


def cmd_show(args) -> int:
    store = Store()
    run = _run_json(store, store.get(args.run), full=True)
    if args.json:
        print(json.dumps(run))
        return 0
    print(f"{run['id']}  {run['name']}\nstatus: {run['status']}  {run['message']}\n"
          f"dataset: {run['dataset']}  device: {run['device']}  params: {run['params']}")
    for e in run["epochs"]:
        print(f"  epoch {e['epoch']}: loss {e['loss']:.4f} acc {e['accuracy']:.4f} "
              f"val_loss {e['val_loss'] if e['val_loss'] is None else round(e['val_loss'], 4)} "
              f"val_acc {e['val_accuracy'] if e['val_accuracy'] is None else round(e['val_accuracy'], 4)}")
    if run["test_accuracy"] is not None:
        print(f"test accuracy {run['test_accuracy']:.4f}  test loss {run['test_loss']:.4f}")
    return 0


def cmd_predict(args) -> int:
    from digitdash.digits import preprocess
    from digitdash.reading import predict
    store = Store()
    run = store.get(args.run)
    model_path = store.model_path(run["id"])
    if model_path is None:
        raise UsageError(f"run {run['id']} has no model (status {run['status']}); pick a finished run")
    results = []
    for name in args.images:
        entry = {"image": name}
        try:
            digits = preprocess.prepare_all(preprocess.decode(Path(name).read_bytes()), keep_steps=False)
            probs = predict.run_probabilities(store, run["id"], np.stack([d.image for d in digits]))
            entry["digits"] = [{"prediction": int(p.argmax()), "confidence": float(p.max()),
                                "probabilities": [round(float(v), 6) for v in p]} for p in probs]
            entry["prediction"] = "".join(str(d["prediction"]) for d in entry["digits"])
        except OSError as exc:
            entry["error"] = f"cannot read {name}: {exc.strerror or exc}"
        except (preprocess.ImageError, predict.ModelError) as exc:
            entry["error"] = str(exc)
        results.append(entry)
    if args.json:
        print(json.dumps(results))
    else:
        for e in results:
            print(f"{e['image']}: " + (f"Prediction: {e['prediction']} (" + ", ".join(
                f"{d['confidence']:.1%}" for d in e["digits"]) + ")" if "error" not in e else f"error: {e['error']}"))
    if all("error" in e for e in results):
        raise UsageError("no image could be read: " + "; ".join(e["error"] for e in results))
    return 0


def cmd_delete(args) -> int:
    Store().delete(args.run)
    print(f"deleted {args.run}")
    return 0


def cmd_bench(args) -> int:
    from digitdash.bench import class_figures, lesson_figures, machine, ray_figures, run_all, server_figures, tour_figures
    if not 1 <= args.submitters <= args.sessions:
        raise UsageError("--submitters must be from 1 to --sessions")
    try:        # the sizes of a lesson's end (tools/lesson.py); none: not measured
        sizes = tuple(int(n) for n in args.lesson_runs.replace(" ", "").split(",") if n)
    except ValueError:
        raise UsageError("--lesson-runs holds whole numbers separated by commas, e.g. 300,1000") from None
    if any(n < 10 for n in sizes) or args.lesson_archived < 0:
        raise UsageError("--lesson-runs sizes are at least 10, --lesson-archived at least 0")
    quiet_tensorflow()
    figures = {"machine": machine(), **run_all(args.dataset, args.epochs)}
    if args.class_runs > 0:
        figures.update(class_figures(args.class_runs))
    if args.ray_runs > 0:
        figures.update(ray_figures(args.ray_runs))
    if not args.no_server:
        figures.update(tour_figures())
        figures.update(server_figures(args.sessions, args.submitters))
        if sizes:        # a lesson's end: hundreds of runs, the class clicking
            figures.update(lesson_figures(sizes, args.lesson_archived, args.sessions, args.lesson_seconds))
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0


def cmd_robustness(args) -> int:
    from digitdash.reading.robustness import evaluate
    store = Store()
    path = store.model_path(store.get(args.run)["id"])
    if path is None:
        raise UsageError(f"run {args.run} has no model; pick a finished run")
    if not 1 <= args.per_class <= 500:
        raise UsageError(f"--per-class {args.per_class}: allowed 1 to 500")
    print(json.dumps(evaluate(path, per_class=args.per_class, seed=args.seed), indent=None if args.json else 2))
    return 0


def cmd_handwriting(args) -> int:
    from digitdash.reading import handwriting
    store = Store()
    if args.action == "add":
        added, failed = [], []
        for name in args.images:
            try:
                added.append({"image": name, "id": handwriting.add_picture(
                    store, Path(name).read_bytes(), args.label, _owner(args.owner), student=False)})
            except OSError as exc:
                failed.append({"image": name, "error": f"cannot read {name}: {exc.strerror or exc}"})
            except (handwriting.HandwritingError, ImageError) as exc:
                failed.append({"image": name, "error": str(exc)})
        if args.json:
            print(json.dumps({"added": added, "failed": failed}))
        else:
            for entry in added:
                print(f"{entry['image']}: kept as drawing {entry['id']} (label {args.label})")
            for entry in failed:
                print(f"{entry['image']}: {entry['error']}", file=sys.stderr)
        return 0 if not failed else 1
    if args.action == "list":
        rows = [{**d, "owner": store.owner_name(d["owner"])} for d in handwriting.listing(store)]
        if args.json:
            print(json.dumps({"drawings": rows, "per_digit": handwriting.counts(store)}))
        else:
            print(f"{len(rows)} drawings; per digit 0-9: {handwriting.counts(store)}")
            for d in rows:
                print(f"{d['id']:>6}  {d['label']}  {d['owner']}")
        return 0
    if args.action == "delete":
        for drawing in args.ids:
            handwriting.delete(store, drawing)
        return 0
    run = store.get(args.run)
    figures = handwriting.score(store, run)
    if figures is None:
        raise UsageError(f"run {run['id']} has no model (status {run['status']}); pick a finished run")
    figures = {"run": run["id"], **figures}
    if args.json:
        print(json.dumps(figures))
    elif figures["total"]:
        print(f"{run['name']}: {figures['right']} of {figures['total']} drawings read right "
              f"(accuracy {figures['accuracy']:.4f})")
    else:
        print(f"{run['name']}: no drawings to score yet (`handwriting add` adds some)")
    return 0


def cmd_worker(args) -> int:
    from digitdash import paths
    if args.ray:
        from digitdash.workers.ray_runner import dispatcher_main
        dispatcher_main(str(paths.home()))
    else:
        from digitdash.workers.worker import worker_main
        worker_main(str(paths.home()), args.slot)       # TensorFlow loads with its first Keras run
    return 0


def cmd_teacher_link(args) -> int:
    """The teacher's link (teacher_gate); with --new, a new key first, every teacher browser signed out."""
    from digitdash import i18n
    from digitdash.classroom import teacher_gate
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", args.url):
        raise UsageError(f"--url takes the address students open, like http://localhost:8501, got {args.url!r}")
    store = Store()
    try:
        if args.new:
            teacher_gate.rotate(store)
        link = teacher_gate.link(args.url, store.home)
    except OSError as exc:
        raise UsageError(f"cannot keep the teacher's key in {store.home}: {exc.strerror or exc}") from None
    print(i18n.t("gate.console_link", hours=teacher_gate.HOURS, link=link))
    return 0


COMMANDS = {"train": cmd_train, "experiment": cmd_experiment, "reproduce": cmd_reproduce, "export": cmd_export,
            "runs": cmd_runs, "show": cmd_show, "predict": cmd_predict,
            "delete": cmd_delete, "bench": cmd_bench, "robustness": cmd_robustness, "handwriting": cmd_handwriting,
            "teacher-link": cmd_teacher_link, "archive": cmd_archive, "worker": cmd_worker}
