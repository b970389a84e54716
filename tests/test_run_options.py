"""The run options' allowed values are declared once, in `hyperlab.engine.RunSettings`; the API (and
the CLI through it) reports a bad one as its flag, in one line each, every problem at once."""

from __future__ import annotations

import pytest

import hyperlab
from hyperlab.api import check_run_options
from hyperlab.errors import UserError


@pytest.mark.parametrize(("options", "lines"), [
    ({"workers": 0}, ["--workers: must be >= 1, got 0"]),
    ({"threads": -2}, ["--threads: must be >= 1, got -2"]),
    ({"device": "tpu"}, ["--device: must be one of auto, cpu, cuda, got 'tpu'"]),
    ({"executor": "dask"}, ["--executor: must be one of vectorized, local, ray, got 'dask'"]),
    ({"workers": 0, "device": "tpu"}, ["--device: must be one of auto, cpu, cuda, got 'tpu'",
                                       "--workers: must be >= 1, got 0"]),
])
def test_a_bad_run_option_is_named_as_its_flag(options, lines) -> None:
    with pytest.raises(UserError) as info:
        check_run_options(**options)
    assert str(info.value).splitlines() == lines


def test_good_and_absent_options_pass() -> None:
    check_run_options(workers=2, threads=None, device="cpu", executor="local")


def test_study_run_checks_them_before_anything_is_stored(tmp_path) -> None:
    study = tmp_path / "s.toml"
    study.write_text('name = "s"\nseeds = 1\n[data]\ndataset = "digits"\n[model]\nkind = "mlp"\n'
                     'hidden = [4]\n[[factor]]\nname = "lr"\npath = "train.optimizer.lr"\nlevels = [0.1]\n')
    with pytest.raises(UserError, match="--workers: must be >= 1, got 0"):
        hyperlab.Study.load(study).run(tmp_path / "ws", workers=0, progress="quiet")
    assert not (tmp_path / "ws").exists()
