"""The shared ways to call `hyperlab` (tests/hyperlab_cli.py): in this process the command gives
what a real process gives (output, exit code, one-line errors), so tests use it wherever a
subprocess is not the point."""

from __future__ import annotations

from hyperlab_cli import hyperlab_in_process, hyperlab_subprocess

STUDY = """
name = "runners"
seeds = 1
[data]
dataset = "digits"
[model]
kind = "mlp"
hidden = [8]
[train]
epochs = 1
[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = [0.5]
"""


def test_a_command_in_this_process_prints_and_exits_as_a_real_one(tmp_path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    args = ("plan", str(study), "--json", "--workspace", str(tmp_path / "ws"))
    here, real = hyperlab_in_process(*args), hyperlab_subprocess(*args)
    assert (here.returncode, here.stdout) == (real.returncode, real.stdout) and here.returncode == 0


def test_bad_input_in_this_process_is_one_line_and_exit_2(tmp_path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY.replace("epochs = 1", "epochs = 0"))
    done = hyperlab_in_process("plan", str(study))
    assert done.returncode == 2
    expected = f"hyperlab: error: {study}: train.epochs: must be >= 1, got 0"
    assert done.stderr.splitlines() == [expected], done.stderr

