"""`hyperlab init [FILE]`: write a commented starter study that runs as it is (digits, no download)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from hyperlab.errors import UserError

STARTER = '''\
# A starter study: what the learning rate and the width of a small MLP each do, on the 8x8
# handwritten digits bundled with scikit-learn (no download). Every key is explained in
# docs/study-file.md. Next:
#
#     hyperlab plan {file}       # the variants and trials this expands into, what each costs
#     hyperlab run {file}        # train them (resumable: Ctrl-C, then run again), then the report
#     hyperlab results {file}    # the tidy tables (CSV) for pandas, R or a spreadsheet
#
name = "{name}"                # keys the results in the workspace (./hyperlab-runs)
description = "Digits MLP: learning rate and width, one at a time"
design = "ablation"            # the baseline, then each level of each factor alone ("grid": all combinations)
seeds = 3                      # every variant trains with random seeds 0, 1, 2: paired comparisons

[data]
dataset = "digits"             # `hyperlab datasets list` shows the others (cifar10, mnist, npz:PATH, ...)
validation = 0.1               # 10% of the training split, stratified; the test split stays unseen
scale = "unit"                 # pixels to [0, 1]

[model]
kind = "mlp"                   # also "sequential" (any stack of layers) and "resnet": docs/models.md
hidden = [64]                  # one hidden layer of 64 units
activation = "relu"
dropout = 0.0                  # probability of zeroing a hidden unit while training

[train]
epochs = 10                    # passes over the training split
batch_size = 32                # examples per gradient step
optimizer = {{ name = "sgd", lr = 0.05, momentum = 0.9 }}   # lr: step size; docs/training.md
threads = 1                    # CPU threads per trial; models this small train fastest on one

[[factor]]
name = "learning rate"         # shown in variant names, tables and figures
path = "train.optimizer.lr"    # the dotted key the levels set
levels = [0.005, 0.5]          # 10x below and above the baseline's 0.05

[[factor]]
name = "width"
path = "model.hidden"
levels = [[16], [256]]
labels = ["16 units", "256 units"]   # optional short names for the levels
'''


def command(
    file: Path = typer.Argument(Path("study.toml"), help="Where to write the study (default: study.toml)."),
    name: str | None = typer.Option(None, "--name", help="The study's name (default: the file's stem)."),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists."),
) -> None:
    """Write a commented starter study (a small MLP on the bundled digits, 5 variants x 3 seeds, under
    a minute on one CPU core) to edit into your own."""
    study_name = name or re.sub(r"[^A-Za-z0-9._-]+", "-", file.stem).strip("-._") or "study"
    if file.exists() and not force:
        raise UserError(f"{file}: exists; choose another FILE or pass --force to overwrite it")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(STARTER.format(name=study_name, file=file), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{file}: cannot write: {exc.strerror}") from None
    typer.echo(f"wrote {file}; next: hyperlab plan {file}")
