"""`hyperlab datasets list | import | verify`: output and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from data_fakes import images, publish

from hyperlab.cli.app import main
from hyperlab.data import cache, load_dataset, registry


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    """An npz that the import accepts as MNIST for this test (shapes and hashes patched, checks real)."""
    arrays = images(12, (28, 28), 10)
    publish(monkeypatch, "mnist", arrays)
    monkeypatch.setitem(registry.OFFICIAL_SHAPES, "mnist", ((12, 28, 28), (10, 28, 28)))
    np.savez(tmp_path / "mnist.npz", **arrays)
    return tmp_path / "mnist.npz", arrays


def test_list_shows_every_dataset_and_where_it_is(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "datasets", "list")

    assert code == 0
    for name in registry.SOURCES:
        assert name in out
    assert "bundled with scikit-learn" in out and "3x32x32" in out


def test_import_installs_and_load_then_uses_the_cache(capsys, small_mnist):
    path, arrays = small_mnist
    code, out, _ = run(capsys, "datasets", "import", "mnist", str(path))

    assert code == 0 and "sha256 = published" in out
    assert np.array_equal(load_dataset("mnist").x_test, arrays["x_test"])
    code, out, _ = run(capsys, "datasets", "verify")
    assert code == 0 and out.startswith("ok")


def test_import_refuses_one_changed_pixel_and_installs_nothing(capsys, small_mnist):
    path, arrays = small_mnist
    arrays["x_train"][3, 10, 10] ^= 1
    np.savez(path, **arrays)

    code, _, err = run(capsys, "datasets", "import", "mnist", str(path))

    assert code == 2 and err.count("\n") == 1 and "x_train: sha256" in err
    assert not cache.cache_path("mnist").exists()


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("y_test"), "expected exactly"),
    (lambda a: a.update(x_test=a["x_test"][:5]), "needs uint8 (10, 28, 28)"),
    (lambda a: a.update(y_train=a["y_train"] + 10), "labels outside 0..9"),
])
def test_import_checks_keys_shapes_and_labels(capsys, small_mnist, change, message):
    path, arrays = small_mnist
    change(arrays)
    np.savez(path, **arrays)

    code, _, err = run(capsys, "datasets", "import", "mnist", str(path))

    assert code == 2 and message in err


def test_verify_reports_a_damaged_cache_file(capsys, small_mnist):
    path, arrays = small_mnist
    run(capsys, "datasets", "import", "mnist", str(path))
    arrays["y_test"][0] = 9
    np.savez(cache.cache_path("mnist"), **arrays)

    code, out, err = run(capsys, "datasets", "verify", "mnist")

    assert code == 2 and "FAILED" in out and "y_test: sha256" in err


def test_import_of_an_unknown_name_in_a_real_process(tmp_path):
    np.savez(tmp_path / "x.npz", x_train=np.zeros((2, 2)))
    env = {**os.environ, "HYPERLAB_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "hyperlab", "datasets", "import", "digits",
                           str(tmp_path / "x.npz")], capture_output=True, text=True, env=env)

    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "NAME must be one of cifar10" in proc.stderr
