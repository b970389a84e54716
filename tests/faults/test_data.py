"""Bad data is refused once, when loaded, before any trial: one line naming the file and the array,
exit 2, and nothing stored as a trial outcome (no OOM from a stray label, no `diverged` from NaN)."""

from __future__ import annotations

import numpy as np
import pytest
from campaign import cli, one_line, statuses

import hyperlab
from hyperlab.errors import UserError

STUDY = """
name = "{name}"
seeds = 1
[data]
dataset = "npz:{file}"
[model]
kind = "mlp"
hidden = [8]
[train]
epochs = 2
batch_size = 32
{extra}
"""


def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"x_train": rng.normal(size=(120, 6)).astype(np.float32), "y_train": rng.integers(0, 3, 120)}


def label(a, value):
    a["y_train"][5] = value
    return a


def nan(a):
    a["x_train"][7, 2] = np.nan
    return a


def inf_target(a):
    a["y_train"] = a["y_train"].astype(np.float32)
    a["y_train"][3] = np.inf
    return a


BAD = {  # name: (arrays, what the one line must name)
    "huge label": (lambda a: label(a, 10**9), "y_train"),
    "negative label": (lambda a: label(a, -1), "y_train"),
    "label past classes": (lambda a: {**label(a, 3), "classes": np.array(["a", "b", "c"])}, "y_train"),
    "nan input": (nan, "x_train"),
    "inf target": (inf_target, "y_train"),
    "no examples": (lambda a: {k: v[:0] for k, v in a.items()}, "train"),
    "one example": (lambda a: {"x_train": a["x_train"][:1], "y_train": np.zeros(1, np.int64)},
                    "split is empty"),
    "test shape": (lambda a: {**a, "x_test": a["x_train"][:5, :4], "y_test": a["y_train"][:5]}, "x_test"),
    # main: 2-D labels trained and stored `failed` ("operands could not be broadcast"); test labels
    # past y_train's made an extra class and stored test accuracy 0 as completed; float or object
    # labels were refused with a message blaming train.loss.
    "2-D labels": (lambda a: {**a, "y_train": np.eye(3, dtype=np.int64)[a["y_train"]]},
                   "y_train: must be 1-D integer labels, got shape (120, 3)"),
    "2-D test labels": (lambda a: {**a, "x_test": a["x_train"][:5],
                                   "y_test": a["y_train"][:10].reshape(5, 2)},
                        "y_test: must be 1-D integer labels"),
    "test label not a train class": (lambda a: {**a, "x_test": a["x_train"][:5], "y_test": np.full(5, 7)},
                                     "y_test: label 7 is not a class of y_train"),
    "float labels": (lambda a: {**a, "y_train": a["y_train"].astype(np.float64)},
                     "y_train: must be 1-D integer"),
    "object labels": (lambda a: {**a, "y_train": a["y_train"].astype(object)},
                      "y_train: must be 1-D integer"),
}


def write(tmp_path, name, make):
    file = tmp_path / f"{name.replace(' ', '-')}.npz"
    np.savez(file, **make(arrays()))
    study = tmp_path / f"{name.replace(' ', '-')}.toml"
    extra = 'loss = "mse"' if name == "inf target" else ""  # a regression study
    study.write_text(STUDY.format(name=name.replace(" ", "-"), file=file, extra=extra))
    return file, study


@pytest.mark.parametrize("name", BAD)
def test_bad_data_is_a_user_error_naming_the_file_and_array_before_any_trial(name, tmp_path):
    make, names = BAD[name]
    file, study = write(tmp_path, name, make)
    workspace = tmp_path / "ws"
    with pytest.raises(UserError) as error:
        loaded = hyperlab.Study.load(study)
        loaded.plan()
        loaded.run(workspace, progress="quiet", report=False, vectorize=False)
    message = str(error.value)
    assert file.name in message and names in message and "\n" not in message, message
    assert not {"failed", "diverged", "completed"} & set(statuses(workspace).values())


def test_the_cli_says_it_in_one_line_with_exit_2(tmp_path):
    file, study = write(tmp_path, "huge label", BAD["huge label"][0])
    done = cli("run", str(study), "--workspace", str(tmp_path / "ws"))  # (plan: the test above)
    assert done.returncode == 2 and one_line(done.stderr), done.stderr
    assert file.name in done.stderr and "y_train" in done.stderr


def test_good_data_still_trains(tmp_path):
    _, study = write(tmp_path, "good", lambda a: a)
    summary = hyperlab.Study.load(study).run(tmp_path / "ws", progress="quiet", report=False)
    assert summary.exit_code == 0 and summary.statuses == {"completed": 1}
