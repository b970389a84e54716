"""The bundled digits: read from scikit-learn's own CSV without importing scikit-learn, and equal to
what sklearn.datasets.load_digits returns."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from sklearn.datasets import load_digits

from hyperlab.data.sources import digits


def test_the_digits_read_from_the_bundled_file_equal_load_digits():
    images, target = digits._bundled_digits()
    bunch = load_digits()
    assert images.shape == (1797, 8, 8) and np.array_equal(images, bunch.images)
    assert np.array_equal(target, bunch.target)
    loaded = digits.load(None)
    assert np.array_equal(loaded.x_train, bunch.images.astype(np.uint8))
    assert np.array_equal(loaded.y_train, bunch.target.astype(np.uint8))


def test_loading_the_digits_does_not_import_scikit_learn():
    code = ("import sys; from hyperlab.data.sources import digits; digits.load(None); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
