"""`hyperlab inspect FILE [--json]` and measure_config: counts without training, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from hyperlab.cli.app import main
from hyperlab.measure import measure_config

LENET_TOML = textwrap.dedent("""
    [data]
    dataset = "cifar10"

    [model]
    kind = "sequential"
    layers = ["conv 6 k5", "relu", "maxpool 2", "conv 16 k5", "relu", "maxpool 2", "flatten",
              "dense 120", "relu", "dense 84", "relu"]
""")


def run_main(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main([*args])
        raise SystemExit(0)  # main returns normally on success
    return info.value.code


@pytest.fixture
def lenet_file(tmp_path):
    path = tmp_path / "lenet.toml"
    path.write_text(LENET_TOML)
    return path


def test_measure_config_counts_lenet():
    result = measure_config({"kind": "sequential", "layers": ["conv 6 k5", "relu", "maxpool 2", "conv 16 k5",
                                                             "relu", "maxpool 2", "flatten", "dense 120",
                                                             "relu", "dense 84", "relu"]},
                            {"dataset": "cifar10"})
    assert (result["params"], result["macs"], result["n_outputs"]) == (62_006, 651_720, 10)
    assert result["input_shape"] == (3, 32, 32)
    assert result["train_flops"] == 3 * result["flops"]
    assert "conv1 (Conv2d)" in result["text"]
    json.dumps(result)  # JSON-serialisable as documented


def test_inspect_prints_the_layer_table(lenet_file, capsys):
    assert run_main("inspect", str(lenet_file)) == 0
    out = capsys.readouterr().out
    assert out.startswith("== baseline: input 3x32x32, 10 outputs (classification) ==")
    assert "maxpool2 (MaxPool2d)" in out and "Params: 62,006" in out and "651,720" in out


def test_inspect_json(lenet_file, capsys):
    assert run_main("inspect", str(lenet_file), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    [variant] = data["variants"]
    assert variant["name"] == "baseline"
    assert (variant["params"], variant["macs"]) == (62_006, 651_720)
    assert variant["flops"] == sum(variant["flops_by_op"].values())


@pytest.mark.parametrize("content, expected", [
    (LENET_TOML.replace('"maxpool 2", "conv 16', '"maxpol 2", "conv 16'),
     "model.layers[2]: unknown layer 'maxpol 2'; allowed: conv, maxpool,"),
    (LENET_TOML.replace('kind = "sequential"', 'kind = "sequential"\ninit = "he"'),
     "model.init: Input should be 'default', 'he_normal'"),
    (LENET_TOML.replace('"flatten",', ""), "model.layers[6]: 'dense 120': needs a flat input"),
    ("[data]\ndataset = 'cifar10'\n", "model: missing; add a [model] table"),
    ("[model\nkind = 'mlp'", "invalid TOML"),
])
def test_inspect_errors_are_one_line_with_the_key_and_exit_2(tmp_path, capsys, content, expected):
    path = tmp_path / "study.toml"
    path.write_text(content)
    assert run_main("inspect", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"hyperlab: error: {path}: {expected}")


STUDY_TOML = textwrap.dedent("""
    name = "depth"
    design = "ablation"
    seeds = 2

    [data]
    dataset = "cifar10"

    [model]
    kind = "mlp"
    hidden = [32, 16, 64, 32, 16, 64]

    [train]
    epochs = 1

    [[factor]]
    name = "depth"
    path = "model.hidden"
    levels = [[32, 16], [32, 16, 64, 32, 16, 64]]
    labels = ["2 layers", "6 layers again"]

    [[factor]]
    name = "lr"
    path = "train.optimizer.lr"
    levels = [0.05]
""")


def test_inspect_measures_every_variant_of_a_study(tmp_path, capsys):
    path = tmp_path / "depth.toml"
    path.write_text(STUDY_TOML)
    assert run_main("inspect", str(path), "--json") == 0
    variants = json.loads(capsys.readouterr().out)["variants"]
    assert [(v["name"], v["params"]) for v in variants] == [
        ("baseline", 104_298), ("depth=2 layers", 99_034), ("depth=6 layers again", 104_298),
        ("lr=0.05", 104_298)]
    assert run_main("inspect", str(path)) == 0
    out = capsys.readouterr().out
    assert out.count("Layer (type)") == 1 and "depth=2 layers" in out and "99,034" in out


def test_inspect_study_errors_name_the_variant(tmp_path, capsys):
    path = tmp_path / "depth.toml"
    path.write_text(STUDY_TOML.replace('kind = "mlp"\nhidden = [32, 16, 64, 32, 16, 64]',
                                       'kind = "sequential"\nlayers = ["flatten", "dense 8", "relu"]')
                    .replace('path = "model.hidden"\nlevels = [[32, 16], [32, 16, 64, 32, 16, 64]]',
                             'path = "model.layers"\nlevels = [["conv 8 k3"], ["flatten"]]'))
    assert run_main("inspect", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "variant 'depth=2 layers': model.layers: the output layer needs a flat input" in err


def test_inspect_as_a_real_command(lenet_file):
    proc = subprocess.run([sys.executable, "-m", "hyperlab", "inspect", str(lenet_file), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["variants"][0]["params"] == 62_006
