"""A family's conclusion is written from its measured figures: the same family with other figures
says something else; the reproduction rows put the notebooks' figures beside ours."""
from digitdash.plan import experiments
from digitdash.plan.config import RunConfig
from digitdash.reading import lessons


def family(name, accuracies, epochs=None, params=None):
    """Finished runs of a template family with these test accuracies (and epoch rows)."""
    base, vary = experiments.template(name, "mnist-5k")
    configs = experiments.expand(base, vary)
    runs = [{"id": f"r{i}", "name": f"r{i}", "config": c, "params": (params or [0] * 3)[i],
             "results": {"test_accuracy": acc, "report": [{}] * 10}} for i, (c, acc) in enumerate(zip(configs, accuracies))]
    rows = {f"r{i}": e for i, e in enumerate(epochs or [])}
    return runs, lambda run_id: rows.get(run_id, [])


def text(said):
    return " ".join(map(str, said))


def test_the_optimizer_lesson_follows_the_figures():
    runs, epochs_of = family("optimizer", [0.835, 0.972, 0.978])
    said = text(lessons.conclusion(runs, epochs_of))
    assert "Best: rmsprop at 97.8%" in said and "worst: sgd at 83.5% (14.3 points apart)" in said
    assert "SGD (learning rate 0.01) reached 83.5% after 5 epochs, Adam (rate 0.001) 97.2%" in said
    assert "needs more epochs" in said
    runs, epochs_of = family("optimizer", [0.975, 0.972, 0.978])          # SGD level with Adam
    said = text(lessons.conclusion(runs, epochs_of))
    assert "level here" in said and "got less far" not in said


def test_activation_initializer_neurons_and_epochs_lessons():
    said = text(lessons.conclusion(*family("activation", [0.915, 0.975, 0.962])))
    assert "No activation reached 91.5%, 6.0 points below relu (97.5%)" in said and "linear model" in said
    assert "came within" in text(lessons.conclusion(*family("activation", [0.97, 0.975, 0.962])))
    said = text(lessons.conclusion(*family("initializer", [0.1135, 0.97, 0.975])))
    assert "stayed at 11.3%, about chance (10%)" in said and "same gradient" in said
    assert "reached 60.0% here" in text(lessons.conclusion(*family("initializer", [0.6, 0.97, 0.975])))
    said = text(lessons.conclusion(*family("neurons", [0.96, 0.97, 0.975], params=[171_730, 407_050, 814_090])))
    assert "From 216 to 1024 neurons: 171,730 to 814,090 parameters and 1.5 points more" in said
    rows = [[{"accuracy": a, "val_accuracy": v, "loss": 0.05, "val_loss": vl}] * n
            for n, a, v, vl in ((5, 0.98, 0.97, 0.1), (15, 0.995, 0.97, 0.12), (30, 1.0, 0.968, 0.2))]
    said = text(lessons.conclusion(*family("epochs", [0.97, 0.971, 0.969], epochs=rows)))
    assert "by 1.0% accuracy and 0.050 loss after 5 epochs, by 3.2% and 0.150 after 30" in said
    assert "starts to memorise" in said
    rows = [[{"accuracy": 0.98, "val_accuracy": 0.97, "loss": 0.05, "val_loss": 0.1}] * n for n in (5, 15, 30)]
    said = text(lessons.conclusion(*family("epochs", [0.97, 0.971, 0.969], epochs=rows)))
    assert "the gap did not widen" in said and "starts to memorise" not in said


def test_no_conclusion_before_every_run_has_finished_or_for_two_knobs():
    runs, epochs_of = family("activation", [0.9, None, 0.95])
    assert lessons.conclusion(runs, epochs_of) == []
    two = experiments.expand(RunConfig(), {"layers": [(8,), (16,)], "activation": ["relu", "tanh"]})
    runs = [{"id": str(i), "config": c, "results": {"test_accuracy": 0.9}} for i, c in enumerate(two)]
    assert lessons.conclusion(runs, lambda _: []) == []


def test_reproduction_rows_put_the_notebook_beside_ours():
    runs, _ = family("optimizer", [0.835, 0.972, 0.978])
    rows = lessons.reproduction_rows("optimizer", runs, "mnist-5k")
    assert [(r["run"], r["learning_rate"], r["notebook"], r["ours"]) for r in rows] == [
        ("sgd", 0.01, "0.935", 0.835), ("adam", 0.001, "-", 0.972), ("rmsprop", 0.001, "0.978", 0.978)]


# Words a Spanish sentence must not hold: knob names and values, and the English of the old sentences.
ENGLISH = {"activation", "initializer", "optimizer", "linear", "zeros", "constant", "best", "worst", "points",
           "what", "changed", "neurons", "layers", "cores", "more", "the", "and"}


def words(text):
    import re
    return {w.lower() for w in re.findall(r"[A-Za-z]+", text)}


def test_lessons_speak_spanish_knob_names_values_and_numbers():
    from digitdash.i18n import say
    cases = [family("activation", [0.915, 0.975, 0.962]), family("initializer", [0.1135, 0.97, 0.975]),
             family("optimizer", [0.835, 0.972, 0.978]),
             family("neurons", [0.96, 0.97, 0.975], params=[171_730, 407_050, 814_090])]
    said = [say(m, "es") for runs, epochs_of in cases for m in lessons.conclusion(runs, epochs_of)]
    assert len(said) == 8
    for sentence in said:
        assert not words(sentence) & ENGLISH, sentence
    text = " ".join(said)
    assert "Qué cambió: Activación. Mejor: relu con 97,5%" in text and "peor: lineal con 91,5%" in text
    assert "Qué cambió: Inicializador de pesos. Mejor: glorot_uniform con 97,5%" in text
    assert "peor: ceros con 11,3%" in text
    assert "de 171.730 a 814.090 parámetros" in text and "1,5 puntos" in text
    english = " ".join(str(m) for runs, epochs_of in cases for m in lessons.conclusion(runs, epochs_of))
    assert "What changed: Activation. Best: relu at 97.5%" in english and "worst: linear at 91.5%" in english
