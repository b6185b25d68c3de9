"""`python -m digitdash`'s own face: its help lists what a person may type, nothing internal."""
import pytest

from digitdash import cli


def test_help_lists_the_commands_and_hides_the_worker(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "SUPPRESS" not in text and "worker" not in text
    for command in ("train", "experiment", "runs", "show", "predict", "delete", "bench", "robustness"):
        assert f"    {command} " in text
    args = cli._parser().parse_args(["worker", "--slot", "1"])     # the runner still starts workers this way
    assert args.command == "worker" and args.slot == 1
