"""Hostile study files end in one line naming the file and the key, exit 2, within seconds: a 1 MB
name, a file nested 3,000 deep, a string for a number, an infinite learning rate, 2**63 epochs,
10**12 seeds (docs/study-file.md, "Limits"). Each failed on main: a hang in rich's highlighter,
exit 1 with a RecursionError, a run that trains, or "out of memory" naming neither file nor key."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from hyperlab.cli.app import main
from hyperlab.runner.progress import RichSink
from hyperlab.spec import load_study
from hyperlab.spec.limits import MAX_EPOCHS, MAX_SEEDS

BASE = """name = "hostile"
seeds = 1
[data]
dataset = "digits"
[model]
kind = "mlp"
hidden = [8]
[train]
epochs = 2
optimizer = { name = "sgd", lr = 0.1 }
"""
MB = "a" * 2**20
DEEP = 3000


def _factor(extra: str) -> str:
    return BASE + f'\n[[factor]]\nname = "lr"\npath = "train.optimizer.lr"\nlevels = [0.05]\n{extra}\n'


HOSTILE = {  # what the file is: (its text, --set options, what the one line must name)
    "1 MB name": (BASE.replace('"hostile"', f'"{MB}"'), [], "name"),
    "1 MB factor label": (_factor(f'labels = ["{MB}"]'), [], "factor[0].labels[0]"),
    "1 MB description": (BASE.replace("seeds = 1", f'seeds = 1\ndescription = "{MB}"'), [], "description"),
    "dotted keys 3,000 deep": (BASE + "[extra]\n" + ".".join(["k"] * DEEP) + " = 1\n", [], "deep"),
    "arrays 3,000 deep": (BASE.replace("seeds = 1", "seeds = 1\nx = " + "[" * DEEP + "]" * DEEP), [], "deep"),
    "inline tables 3,000 deep": (BASE.replace("seeds = 1", "seeds = 1\nx = " + "{a = " * DEEP + "1"
                                              + "}" * DEEP), [], "deep"),
    "epochs a string": (BASE.replace("epochs = 2", 'epochs = "2"'), [], "train.epochs"),
    "lr = inf": (BASE.replace("lr = 0.1", "lr = inf"), [], "train.optimizer.lr"),
    "lr = -inf in a level": (_factor("").replace("levels = [0.05]", "levels = [-inf]"), [],
                             "factor[0].levels[0]"),
    "epochs 2**63": (BASE.replace("epochs = 2", f"epochs = {2**63 - 1}"), [], "train.epochs"),
    "epochs 10**10 in a level": (BASE + '[[factor]]\nname = "e"\npath = "train.epochs"\n'
                                 'levels = [10000000000]\n', [], "factor[0].levels[0]: train.epochs"),
    "seeds 10**12": (BASE.replace("seeds = 1", "seeds = 1000000000000"), [], "seeds"),
    "--set seeds=100000000": (BASE, ["seeds=100000000"], "--set seeds=100000000: seeds"),
    "--set deep": (BASE, ["x=" + "[" * DEEP + "]" * DEEP], "--set x="),
    "a grid of 10**12 variants": (BASE.replace("seeds = 1", 'seeds = 1\ndesign = "grid"') + "".join(
        f'[[factor]]\nname = "f{i}"\npath = "train.batch_size"\nlevels = {list(range(1, 11))}\n'
        for i in range(12)), [], "variants"),
}


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out = capsys.readouterr()
    return code, out.err


@pytest.mark.timeout(120)  # main: the 1 MB name hung in rich's highlighter (no output for 180 s)
@pytest.mark.parametrize("what", HOSTILE)
def test_a_hostile_study_file_is_one_line_naming_file_and_key_with_exit_2(what, tmp_path, capsys):
    text, overrides, named = HOSTILE[what]
    study = tmp_path / "hostile.toml"
    study.write_text(text)
    args = ["run", str(study), "--workspace", str(tmp_path / "ws"), "--no-report", "--threads", "1"]
    code, err = _run(args + [f"--set={o}" for o in overrides], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err[:2000])
    where = "--set" if overrides else str(study)
    assert lines[0].startswith(f"hyperlab: error: {where}") and named in lines[0], lines[0][:500]
    assert len(lines[0]) < 400  # the value is not echoed back in full
    assert not (tmp_path / "ws" / "hyperlab.db").exists()  # refused before the workspace is touched


def test_the_limits_name_their_maximum(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text(BASE)
    with pytest.raises(Exception, match=f"at most {MAX_SEEDS}"):
        load_study(study, ["seeds=100000000"])
    with pytest.raises(Exception, match=f"at most {MAX_EPOCHS:,}"):
        load_study(study, [f"train.epochs={MAX_EPOCHS + 1}"])


def test_whole_numbers_still_go_into_number_keys(tmp_path):
    # Strict types refuse "2" for 2, not 1 for 1.0: `lr = 1` is a learning rate of 1.0.
    study = tmp_path / "s.toml"
    study.write_text(BASE.replace("lr = 0.1", "lr = 1"))
    assert load_study(study).train.optimizer.lr == 1.0
    assert load_study(study, [f"train.epochs={MAX_EPOCHS}", f"seeds={MAX_SEEDS}"]).train.epochs == MAX_EPOCHS


def test_progress_prints_names_as_written_never_as_markup():
    # A level's label is the user's text: "[bold]" in it is shown, not obeyed (main: swallowed as markup).
    out = io.StringIO()
    sink = RichSink(Console(file=out, width=200, force_terminal=False, color_system=None))
    sink.emit({"event": "run_started", "study": "s[bold]x", "workspace": "/w", "planned": 1, "to_train": 0,
               "reused": 1})
    sink.emit({"event": "trial_finished", "key": "k", "variant": "act=[red]tanh", "seed": 0,
               "status": "completed", "final": {}})
    assert "s[bold]x" in out.getvalue() and "act=[red]tanh" in out.getvalue(), out.getvalue()


def test_docs_list_every_limit():
    from pathlib import Path

    from hyperlab.spec.limits import LIMITS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "study-file.md").read_text(encoding="utf-8")
    missing = [what for what, most in LIMITS.items() if f"| {what} | {most} |" not in doc]
    assert not missing, f"docs/study-file.md, Limits, lacks {missing}"
