"""`california-housing`: scikit-learn's 8 features and target, from the StatLib file when present.

The raw file (`cal_housing.data`, 20,640 rows: longitude, latitude, housingMedianAge, totalRooms,
totalBedrooms, population, households, medianIncome, medianHouseValue) is turned into exactly what
`sklearn.datasets.fetch_california_housing` returns, so results match the notebooks.

Where it is looked for, in order: the data root (`--data-root`, $HYPERLAB_DATA), the cache
(`<cache>/datasets/california-housing/cal_housing.data`, where a file found in a data root is copied
the first time, so later commands need no data root), then scikit-learn's copy (downloaded by
scikit-learn unless $HYPERLAB_OFFLINE is set).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from hyperlab.data import cache, download
from hyperlab.data.dataset import Dataset
from hyperlab.data.formats import read_tar
from hyperlab.data.sources.base import LoadOptions, Source
from hyperlab.errors import DataNotFoundError, UserError

FEATURES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
DATA_SHA256 = "d3d8a1a722ae78f91134862727d27a70b1415e7d512a89140406248687f4b902"  # cal_housing.data
TGZ_SHA256 = "aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681"  # scikit-learn's archive
MEMBER = "CaliforniaHousing/cal_housing.data"  # inside cal_housing.tgz
N_ROWS = 20640
ARCHIVE_URL = "https://ndownloader.figshare.com/files/5976036"  # scikit-learn's cal_housing.tgz


def cached_copy() -> Path:
    """The cache's copy of the StatLib table (the decompressed cal_housing.data)."""
    return cache.datasets_dir() / "california-housing" / "cal_housing.data"


def find(root: Path) -> Path | None:
    for folder in (root, root / "california-housing", root / "CaliforniaHousing"):
        for name in ("cal_housing.data", "cal_housing.tgz"):
            if (folder / name).is_file():
                return folder / name
    return None


def features_from_statlib(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's (data, target) from the 9 raw StatLib columns (same float64 operations)."""
    households = raw[:, 6]
    data = np.column_stack([
        raw[:, 7],  # MedInc: median income
        raw[:, 2],  # HouseAge: median house age
        raw[:, 3] / households,  # AveRooms: total rooms per household
        raw[:, 4] / households,  # AveBedrms: total bedrooms per household
        raw[:, 5],  # Population
        raw[:, 5] / households,  # AveOccup: people per household
        raw[:, 1],  # Latitude
        raw[:, 0],  # Longitude
    ])
    return data, raw[:, 8] / 100000.0  # target in units of 100,000 dollars


def read_statlib(path: Path) -> tuple[np.ndarray, str]:
    """The raw 9-column table and how its file was verified."""
    raw, verified, _ = _read(path)
    return raw, verified


def _read(path: Path) -> tuple[np.ndarray, str, bytes]:
    blob = path.read_bytes()
    if path.suffix == ".tgz":
        archive_ok = hashlib.sha256(blob).hexdigest() == TGZ_SHA256
        blob = read_tar(path, {MEMBER})[MEMBER]
    else:
        archive_ok = False
    data_ok = hashlib.sha256(blob).hexdigest() == DATA_SHA256
    try:
        raw = np.loadtxt(io.BytesIO(blob), delimiter=",", dtype=np.float64)
    except ValueError as exc:
        raise UserError(f"{path}: not the StatLib cal_housing.data ({exc})") from exc
    if raw.ndim != 2 or raw.shape[1] != 9:
        raise UserError(f"{path}: {raw.shape} table; expected 9 comma-separated columns")
    verified = "sha256 = StatLib file" if (data_ok or archive_ok) else "unverified (not the StatLib sha256)"
    return raw, verified, blob


def load(options: LoadOptions) -> Dataset:
    path = find(options.root) if options.root is not None else None
    if path is None and cached_copy().is_file():
        path = cached_copy()
    if path is not None:
        raw, verified, blob = _read(path)
        if path != cached_copy():  # remembered: a later command finds it without the data root
            cache.write_atomic(cached_copy(), lambda f: f.write(blob))
        data, target = features_from_statlib(raw)
        source = str(path)
    else:
        data, target = _sklearn_fetch(options.root)
        source, verified = "scikit-learn fetch_california_housing", "checked by scikit-learn (sha256)"
    return Dataset(
        name="california-housing", task="regression", classes=[], x_train=data, y_train=target,
        source=source, verified=verified, feature_names=list(FEATURES),
    )


def _sklearn_fetch(root: Path | None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import fetch_california_housing

    where = f"not in {root} (cal_housing.data or cal_housing.tgz)" if root else "no data root set"
    fix = (f"Fix: fetch {ARCHIVE_URL} (cal_housing.tgz, sha256 {TGZ_SHA256[:12]}...) and put it, or the "
           f"cal_housing.data inside it, into {cached_copy().parent} (or into a folder named by "
           f"--data-root or HYPERLAB_DATA)")
    if download.offline():
        try:  # scikit-learn's own copy, if an earlier online run left one
            bunch = fetch_california_housing(download_if_missing=False)
        except OSError:
            raise DataNotFoundError(
                f"california-housing: {where}, not in the cache, and {download.OFFLINE_ENV} is set so "
                f"nothing was downloaded. {fix}") from None
        return bunch.data, bunch.target
    try:
        bunch = fetch_california_housing(download_if_missing=True)
    except Exception as exc:  # URLError, HTTPError, OSError: all mean "not available here"
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise DataNotFoundError(
            f"california-housing: {where}, not in the cache, and scikit-learn's download failed "
            f"({type(exc).__name__}: {detail}). {fix}") from exc
    return bunch.data, bunch.target


def locate(options: LoadOptions) -> tuple[str, str]:
    path = find(options.root) if options.root is not None else None
    if path is None and cached_copy().is_file():
        path = cached_copy()
    if path is not None:
        return str(path), "sha256 checked on load"
    return "scikit-learn's copy (downloaded on first load)", "checked by scikit-learn"


SOURCE = Source(
    name="california-housing", task="regression", input_shape=(8,), classes=(),
    n_train=N_ROWS, n_test=None, load=load, locate=locate,
    summary="StatLib California housing: 8 features, median house value / 100,000",
)
