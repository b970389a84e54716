"""User files (npz:PATH, folder:PATH) and the StatLib California housing file."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from data_fakes import images, write_tar
from PIL import Image

from hyperlab.data import DataConfig, clear_memo, describe, load_dataset, make_splits
from hyperlab.data.sources import california, files
from hyperlab.errors import DataNotFoundError, UserError


def test_npz_images_with_keras_style_column_labels(tmp_path):
    arrays = images(20, (8, 8, 3), 4)
    path = tmp_path / "set.npz"
    np.savez(path, **{**arrays, "y_train": arrays["y_train"].reshape(-1, 1).astype(np.int64)})

    dataset = load_dataset(f"npz:{path}")
    info = describe(DataConfig(dataset=f"npz:{path}", validation=0.25))

    assert dataset.task == "classification" and dataset.y_train.shape == (20,)
    assert np.array_equal(dataset.x_train, arrays["x_train"])
    assert info.input_shape == (3, 8, 8) and info.classes == ("0", "1", "2", "3")
    assert (info.n_train, info.n_val, info.n_test) == (15, 5, 10)


def test_npz_regression_table_without_test_split_holds_out_test_fraction(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "table.npz"
    np.savez(path, x_train=rng.normal(size=(40, 3)), y_train=rng.normal(size=40))
    cfg = DataConfig(dataset=f"npz:{path}", test_fraction=0.25, validation=0.1, scale="standardize")

    splits = make_splits(cfg)
    info = describe(cfg)

    assert splits.task == "regression" and splits.y_train.dtype.is_floating_point
    sizes = (info.n_train, info.n_val, info.n_test)
    assert (len(splits.x_train), len(splits.x_val), len(splits.x_test)) == sizes == (27, 3, 10)


@pytest.mark.parametrize("arrays, message", [
    ({"x_train": np.zeros((2, 2)), "y_train": np.zeros(2, int), "extra": np.zeros(1)}, "unexpected arrays"),
    ({"x_train": np.zeros((2, 2)), "y_train": np.zeros(2, int), "x_test": np.zeros((1, 2))}, "go together"),
    ({"x_train": np.zeros((2, 4, 4)), "y_train": np.zeros(2, int)}, "must be uint8"),
])
def test_bad_npz_is_a_user_error(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=message):
        load_dataset(f"npz:{path}")


def _write_image_folder(root: Path, mode: str = "RGB", size=(6, 5)) -> dict[str, list[np.ndarray]]:
    """root/{train,test}/{cat,dog}/*.png|jpg; returns the pixel arrays per class of train."""
    rng = np.random.default_rng(0)
    written = {}
    for split, n in (("train", 3), ("test", 2)):
        for label in ("cat", "dog"):
            (root / split / label).mkdir(parents=True)
            for i in range(n):
                shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
                pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
                Image.fromarray(pixels, mode).save(root / split / label / f"{i}.png")
                if split == "train":
                    written.setdefault(label, []).append(pixels)
    return written


@pytest.mark.parametrize("mode, shape", [("RGB", (3, 5, 6)), ("L", (1, 5, 6))])
def test_image_folder_is_decoded_once_into_the_cache(tmp_path, monkeypatch, mode, shape):
    written = _write_image_folder(tmp_path / "pets", mode)

    dataset = load_dataset(f"folder:{tmp_path / 'pets'}")

    assert dataset.classes == ["cat", "dog"] and dataset.input_shape == shape
    assert np.array_equal(dataset.x_train[:3], np.stack(written["cat"]))  # lossless PNG, class order
    assert dataset.y_train.tolist() == [0, 0, 0, 1, 1, 1] and len(dataset.x_test) == 4

    monkeypatch.setattr(files, "_decode_images", lambda *a: pytest.fail("decoded again"))
    again = load_dataset(f"folder:{tmp_path / 'pets'}")
    assert np.array_equal(again.x_train, dataset.x_train)
    assert describe(DataConfig(dataset=f"folder:{tmp_path / 'pets'}", validation="test")).n_train == 6


def test_changed_image_folder_is_decoded_again(tmp_path):
    _write_image_folder(tmp_path / "pets")
    load_dataset(f"folder:{tmp_path / 'pets'}")
    Image.fromarray(np.zeros((5, 6, 3), np.uint8)).save(tmp_path / "pets" / "train" / "dog" / "new.jpg")

    dataset = load_dataset(f"folder:{tmp_path / 'pets'}")

    assert len(dataset.x_train) == 7


def test_image_folder_with_mixed_sizes_names_the_file(tmp_path):
    _write_image_folder(tmp_path / "pets")
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(tmp_path / "pets" / "train" / "dog" / "big.png")
    with pytest.raises(UserError, match="big.png: size"):
        load_dataset(f"folder:{tmp_path / 'pets'}")


# --- California housing --------------------------------------------------------------------------

# longitude, latitude, housingMedianAge, totalRooms, totalBedrooms, population, households,
# medianIncome, medianHouseValue: the StatLib column order.
ROWS = [
    [-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252, 452600.0],
    [-122.22, 37.86, 21.0, 7099.0, 1106.0, 2401.0, 1138.0, 8.3014, 358500.0],
    [-122.24, 37.85, 52.0, 1467.0, 190.0, 496.0, 177.0, 7.2574, 352100.0],
    [-122.25, 37.85, 52.0, 1274.0, 235.0, 558.0, 219.0, 5.6431, 341300.0],
]


def _statlib_text() -> str:
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in ROWS) + "\n"


def test_california_features_match_scikit_learns_definition(tmp_path):
    (tmp_path / "cal_housing.data").write_text(_statlib_text())

    dataset = load_dataset("california-housing", root=tmp_path)

    first = dataset.x_train[0]  # MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Lat, Long
    assert first == pytest.approx([8.3252, 41.0, 880 / 126, 129 / 126, 322.0, 322 / 126, 37.88, -122.23])
    assert dataset.y_train.tolist() == pytest.approx([4.526, 3.585, 3.521, 3.413])
    assert dataset.feature_names[0] == "MedInc" and dataset.task == "regression"
    assert dataset.verified.startswith("unverified")  # four rows are not the StatLib file


def test_california_from_the_statlib_archive(tmp_path):
    data = _statlib_text().encode()
    info = tarfile.TarInfo(california.MEMBER)
    info.size = len(data)
    with tarfile.open(tmp_path / "cal_housing.tgz", "w:gz") as tar:
        tar.addfile(info, io.BytesIO(data))

    dataset = load_dataset("california-housing", root=tmp_path)

    assert dataset.x_train.shape == (4, 8)


def test_california_archive_with_an_escaping_member_is_refused(tmp_path):
    bad = tarfile.TarInfo("../../cal_housing.data")
    bad.size = 3
    write_tar(tmp_path / "cal_housing.tgz", {california.MEMBER: _statlib_text().encode()}, extra=[bad])
    with pytest.raises(UserError, match="points outside the archive"):
        load_dataset("california-housing", root=tmp_path)


def test_california_offline_without_a_file_says_what_to_do(tmp_path):
    with pytest.raises(DataNotFoundError, match="HYPERLAB_DATA") as error:
        load_dataset("california-housing", root=tmp_path)
    message = str(error.value)
    assert "\n" not in message and "failed" not in message  # nothing was tried
    assert "HYPERLAB_OFFLINE is set so nothing was downloaded" in message
    assert california.ARCHIVE_URL in message and str(california.cached_copy().parent) in message
    assert "shared" not in message  # no path from this repository's development layout


def test_california_found_once_in_a_data_root_is_remembered_in_the_cache(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "cal_housing.data").write_text(_statlib_text())
    first = load_dataset("california-housing", root=root)
    (root / "cal_housing.data").unlink()
    clear_memo()
    again = load_dataset("california-housing")  # no data root: a later `hyperlab report`
    assert again.source == str(california.cached_copy())
    assert np.array_equal(again.x_train, first.x_train) and again.verified == first.verified


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "california-housing").is_dir(), reason="needs ../shared/data")
def test_california_from_the_shared_statlib_file():
    dataset = load_dataset("california-housing", root=SHARED)

    assert dataset.x_train.shape == (20640, 8) and dataset.verified == "sha256 = StatLib file"
    assert dataset.y_train.mean() == pytest.approx(2.0686, abs=1e-4)  # the value README.md publishes
