"""The `[data]` section of a study: which dataset, how it is split and scaled."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DataConfig(BaseModel):
    """Where the examples come from and how they are prepared. Part of every trial's config."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = "digits"
    """A registered name (digits, cifar10, cifar100, mnist, fashion-mnist, california-housing,
    cubic, moons, circles, spirals, xor, gauss), or `npz:PATH`, or `folder:PATH`."""

    validation: float | Literal["test"] = 0.1
    """Fraction of the training set held out for validation (stratified, seeded by split_seed), or
    "test" to validate on the test set as some notebooks did (the report flags it as selection bias)."""

    split_seed: int = 0
    """Seed of the train/validation split. Fixed across trial seeds so every trial sees the same split."""

    scale: Literal["unit", "symmetric", "standardize", "none"] = "unit"
    """unit: [0, 1]; symmetric: [-1, 1]; standardize: per-channel/feature mean and std of the training
    split; none: raw values as float32."""

    subset: int | None = Field(default=None, ge=1)
    """Keep at most this many training examples (stratified, seeded by split_seed): for smoke runs.
    Applied to the training pool before the validation hold-out, so the validation set shrinks too."""

    test_subset: int | None = Field(default=None, ge=1)
    """Keep at most this many test examples (stratified, seeded by split_seed): for smoke runs."""

    n: int = Field(default=200, ge=4)
    """Synthetic 2-D sets only: number of points (train + test together)."""

    noise: float = Field(default=0.0, ge=0.0)
    """Synthetic 2-D sets only: standard deviation of Gaussian noise added to the points."""

    seed: int = 0
    """Synthetic 2-D sets only: seed of the generator (the dataset itself, not the trial)."""

    test_fraction: float = Field(default=0.25, gt=0.0, lt=1.0)
    """Synthetic sets and tabular sets without an official test split: fraction kept as test set."""

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        from hyperlab.data.registry import SOURCES, is_known  # late: the registry imports the sources

        if not is_known(value):
            raise ValueError(f"unknown dataset {value!r}; choose one of {', '.join(SOURCES)}, npz:PATH, "
                             "folder:PATH")
        return value

    @field_validator("validation")
    @classmethod
    def _validation_fraction(cls, value: float | str) -> float | str:
        if value != "test" and not 0.0 <= value < 1.0:
            raise ValueError(f'must be a fraction in [0, 1) or "test", got {value}')
        return value
