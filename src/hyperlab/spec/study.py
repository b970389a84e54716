"""The study file's schema: what to train (data, model, train), what to vary (factors), how often
(seeds) and what not to train (budget). docs/study-file.md is generated from these docstrings."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from hyperlab.data.config import DataConfig
from hyperlab.engine import RunSettings, TrainConfig, TrialConfig
from hyperlab.engine.settings import RUN_KEYS, Device
from hyperlab.models import ModelSpec
from hyperlab.spec.limits import MAX_DESCRIPTION, MAX_NAME, MAX_SEED, MAX_SEEDS

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Budget(_Table):
    """Limits on a variant's size or cost. Variants over a limit are listed by `hyperlab plan` with
    the reason and are not trained. Counts are for one example's forward pass (hyperlab.measure)."""

    max_params: int | None = Field(default=None, ge=1)
    """Most parameters (trainable or not) a variant's model may have (notebook 004: 256000)."""

    max_macs: int | None = Field(default=None, ge=1)
    """Most multiply-accumulates of conv and dense layers for one example's forward pass."""

    max_flops: int | None = Field(default=None, ge=1)
    """Most floating-point operations (all operation types) for one example's forward pass."""

    max_seconds: float | None = Field(default=None, gt=0)
    """Most seconds a trial may take to train, estimated before training by timing a few training
    steps of the variant's model at its batch size on this machine (hyperlab.plan.timing): epochs x
    steps per epoch x seconds per step + evaluation. An estimate, not a deadline: a trial is never
    stopped for running longer (docs/study-file.md gives its measured accuracy)."""


class Factor(_Table):
    """One hyperparameter to vary. Either `path` + `levels` (values of that key), or `levels` alone
    as tables of `{ "dotted.key" = value, ... }` changing several keys together. A search study
    (design = "search") gives `range` (with `log`, `step`) or `choices` instead of `levels`."""

    name: str = Field(min_length=1, max_length=MAX_NAME)
    """Shown in variant names ("<name>=<level>"), tables and figures; unique within the study."""

    path: str | None = None
    """Dotted key the levels set, e.g. "train.optimizer.lr" or "model.hidden"; it must exist in the
    baseline (defaults included). A level that is a table replaces the whole value at the path."""

    levels: list[Any] | None = Field(default=None, min_length=1)
    """The values to try, in order (ablation and grid). Without `path`: tables of
    {"dotted.key" = value}; each key must exist in the baseline, and tables inside them set the keys
    they name, keeping the others."""

    range: list[float | int] | None = None
    """Search only: [low, high], both included; integers give an integer range, e.g. [1e-4, 0.3]."""

    log: bool = False
    """Search only, with `range`: sample uniformly in log space (low must be > 0)."""

    step: float | int | None = None
    """Search only, with `range`: values are low, low + step, ... (not with `log`)."""

    choices: list[Any] | None = Field(default=None, min_length=1)
    """Search only: the values to choose from, like levels (with `path`: values of that key;
    without: tables of {"dotted.key" = value})."""

    labels: list[Annotated[str, Field(max_length=MAX_NAME)]] | None = None
    """Short names for the levels or choices (one each, distinct); default: the value itself, or
    "key=value, key=value" of the keys a table level changes."""

    role: Literal["scientific", "nuisance"] | None = None
    """Isolation studies (design = "isolation") only: "scientific" (the question: `levels`, each
    compared with the others) or "nuisance" (`range` or `choices`, re-tuned at every scientific
    level); every key no factor names stays fixed at the baseline's value."""

    @model_validator(mode="after")
    def _one_kind_of_values(self) -> Factor:
        given = [k for k in ("levels", "range", "choices") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "invalid", "give one of levels (ablation, grid), range or choices (search), got {g}",
                {"g": ", ".join(given) or "none"})
        if self.range is None and (self.log or self.step is not None):
            raise PydanticCustomError("invalid", "log and step go with range, not with {g}", {"g": given[0]})
        if self.range is not None:
            low, high = (self.range + [None, None])[:2]
            if len(self.range) != 2 or not low < high:
                raise PydanticCustomError(
                    "invalid", "range must be [low, high] with low < high, got {r}", {"r": self.range})
            if self.log and low <= 0:
                raise PydanticCustomError("invalid", "a log range needs low > 0, got {r}", {"r": self.range})
            if self.step is not None and (self.log or not 0 < self.step <= high - low):
                raise PydanticCustomError(
                    "invalid", "step must be > 0 and <= high - low, and not with log, got step = {s}",
                    {"s": self.step})
        if self.labels is not None and self.range is not None:
            raise PydanticCustomError("invalid", "labels go with levels or choices, not with range", {})
        return self

    @field_validator("labels")
    @classmethod
    def _labels_are_distinct(cls, labels: list[str] | None) -> list[str] | None:
        if labels is not None:
            empty = [i for i, label in enumerate(labels) if not label.strip()]
            if empty:
                raise PydanticCustomError("invalid", "labels must not be empty (labels[{i}])",
                                          {"i": empty[0]})
            seen = [label for i, label in enumerate(labels) if label in labels[:i]]
            if seen:
                raise PydanticCustomError("invalid", "labels must be distinct, {label!r} repeats",
                                          {"label": seen[0]})
        return labels


def trial_section(section: BaseModel, name: str) -> Any:
    """A study table without its run defaults: the `DataConfig` / `TrainConfig` of a trial."""
    run_keys = {key for (where, key) in RUN_KEYS if where == name}
    base = DataConfig if name == "data" else TrainConfig
    return base.model_validate(section.model_dump(exclude=run_keys))


class DataSection(DataConfig):
    """The `[data]` table: a trial's data config, plus where official files are (a run default)."""

    root: str | None = None
    """Folder with official dataset files (archives, IDX .gz). Default: $HYPERLAB_DATA. A run
    default, not part of a trial: `--data-root` overrides it."""


class TrainSection(TrainConfig):
    """The `[train]` table: a trial's train config, plus run defaults that are not part of it."""

    device: Device = "auto"
    """Where to train: auto picks cuda when available. A run default, not part of a trial:
    `--device` overrides it."""

    threads: int | None = Field(default=None, ge=1)
    """CPU threads for torch (null = torch's default). A run default, not part of a trial:
    `--threads` overrides it."""

    eval_batch_size: int = Field(default=1024, ge=1)
    """Examples per forward pass during evaluation (memory only; results do not depend on it). A
    run default, not part of a trial."""

    channels_last: bool = False
    """Run image models in the channels-last memory layout (speed only: 1.14-1.56x for the seed
    convnets on this CPU, docs/performance.md; results agree to float rounding, not bit for bit).
    A run default, not part of a trial."""

    checkpoint_every: int | None = Field(default=1, ge=1)
    """Trials write their checkpoints every this many evaluated epochs (null: by
    `checkpoint_seconds` only), and always at each trial's end; a killed run's trials retrain the
    epochs since their last checkpoint on resume. A run default, not part of a trial."""

    checkpoint_seconds: float | None = Field(default=None, gt=0)
    """A stack also checkpoints once this many seconds have passed since its last checkpoint (null:
    by `checkpoint_every` only). A run default, not part of a trial."""


SAMPLERS = ("random", "tpe", "cmaes", "gp", "qmc")  # hyperlab.search.samplers.SAMPLERS builds them
PRUNERS = ("none", "median", "asha", "hyperband")  # hyperlab.search.pruners.PRUNERS builds them
OBJECTIVES = ("val_accuracy", "val_loss", "val_mse", "val_mae", "val_r2")  # validation data only


class Confirm(_Table):
    """The confirmation stage of a search: the best configurations re-run with matched seeds."""

    top: int = Field(default=3, ge=0)
    """How many of the best configurations (by the objective, validation data only) are re-run;
    0: none (no confirmation stage)."""

    seeds: int = Field(default=5, ge=2)
    """Seeds each of them and the baseline are trained with (the search seed + 1, + 2, ...)."""


class _Optimized(_Table):
    """A table that optimizes a validation `objective` in a `direction` ([search], [isolation]): the
    objective's check and the direction it defaults to, written once."""

    @field_validator("objective", check_fields=False)
    @classmethod
    def _validation_metric(cls, name: str) -> str:
        return _one_of(name, OBJECTIVES)

    @property
    def maximize(self) -> bool:
        if self.direction is not None:
            return self.direction == "maximize"
        return self.objective in ("val_accuracy", "val_r2")


class Search(_Optimized):
    """The `[search]` table of a study with design = "search": an Optuna sampler proposes
    configurations from the factors' ranges and choices, one seed each; a pruner may stop bad ones."""

    sampler: str = "tpe"
    """random, tpe, cmaes, gp or qmc (Optuna's samplers, seeded from `seed`)."""

    trials: int = Field(ge=1)
    """Configurations to try (one seed each): a resumed search ends with exactly this many."""

    objective: str = "val_accuracy"
    """The epoch-record metric to optimize on validation data: val_accuracy, val_loss, val_mse,
    val_mae or val_r2 (a trial's value is the one at its end)."""

    direction: Literal["maximize", "minimize"] | None = None
    """Default: maximize accuracy and r2, minimize losses and errors."""

    pruner: str = "none"
    """none, median, asha or hyperband (Optuna's pruners on the objective after each epoch, decided
    from the store in whichever process trains the trial, stacked or one by one)."""

    seed: int = Field(default=0, ge=0)
    """Seeds the sampler: the same file gives the same configurations (run to completion)."""

    confirm: Confirm = Field(default_factory=Confirm)
    """Re-run the best `top` configurations and the baseline with `seeds` matched seeds, e.g.
    { top = 3, seeds = 5 }; top = 0 skips the confirmation stage."""

    @field_validator("sampler")
    @classmethod
    def _known_sampler(cls, name: str) -> str:
        return _one_of(name, SAMPLERS)

    @field_validator("pruner")
    @classmethod
    def _known_pruner(cls, name: str) -> str:
        return _one_of(name, PRUNERS)


ISOLATION_SAMPLERS = ("qmc", "tpe", "random")


class Isolation(_Optimized):
    """The `[isolation]` table of a study with design = "isolation": at each level of the scientific
    factor, the nuisance factors are searched, then each level's best setting is re-run with matched
    seeds on new validation splits and the levels are compared."""

    trials_per_level: int = Field(default=12, ge=2)
    """Nuisance configurations searched at each scientific level (one seed each, the search seed)."""

    sampler: str = "qmc"
    """qmc (Optuna's QMCSampler: Sobol points, unscrambled, so every level is searched at the same
    nuisance points), tpe or random (seeded from `seed`)."""

    objective: str = "val_accuracy"
    """The epoch-record metric the search maximizes or minimizes on validation data (as in
    [search]): val_accuracy, val_loss, val_mse, val_mae or val_r2, its value at the trial's end."""

    direction: Literal["maximize", "minimize"] | None = None
    """Default: maximize accuracy and r2, minimize losses and errors."""

    seed: int = Field(default=0, ge=0)
    """Seeds the sampler (tpe, random; each level's search gets its own seed derived from it)."""

    confirm_seeds: int = Field(default=5, ge=2)
    """Seeds each level's best nuisance setting, and the baseline's nuisance values at that level,
    are re-run with: the search seed + 1, + 2, ..., each on its own validation split
    (data.split_seed + 1, + 2, ...), none of them the split the search selected on."""

    @field_validator("sampler")
    @classmethod
    def _known_sampler(cls, name: str) -> str:
        return _one_of(name, ISOLATION_SAMPLERS)



def _one_of(name: str, allowed: tuple[str, ...]) -> str:
    if name not in allowed:
        raise PydanticCustomError("invalid", "must be one of {a}, got {n}",
                                  {"a": ", ".join(allowed), "n": repr(name)})
    return name


class SeedRule(_Table):
    """Seeds until the question is settled: every variant starts with `min` seeds (0..min-1); after
    they finish, the runner adds the next matched seed (the variant's and the baseline's, so pairs
    stay matched) to each variant whose primary comparison with the baseline is not settled (its 95%
    CI half-width above `target`), until it is or the variant has `max` seeds
    (hyperlab.analysis.settle; docs/report.md, "Seeds until settled")."""

    min: int = Field(default=3, ge=2)
    """Seeds every variant trains with first (seeds 0 .. min - 1)."""

    max: int = Field(default=20, ge=2, le=1000)
    """Most seeds a variant is given (>= min)."""

    target: float = Field(gt=0)
    """The primary comparison's 95% CI half-width at which it is settled: points for accuracies
    (1.0 = one percentage point), the metric's unit otherwise."""


class StudySpec(_Table):
    """A study file: a baseline trial config (data, model, train), the factors to vary around it,
    the seeds every variant is trained with, and an optional budget."""

    name: str = Field(max_length=MAX_NAME)
    """Identifies the study in the workspace and its report: letters, digits, '.', '_' and '-'."""

    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    """One line shown at the top of the plan and the report."""

    design: Literal["ablation", "grid", "search", "isolation"] = "ablation"
    """ablation: the baseline plus each factor level alone (1 + sum of levels variants); grid: every
    combination of levels (product of levels variants); search: configurations sampled from the
    factors' ranges and choices by an Optuna sampler (see [search]), then a confirmation stage;
    isolation: the nuisance factors re-tuned at each level of the scientific factor, then the levels
    compared with matched seeds (see [isolation])."""

    seeds: int | list[int] | SeedRule = 3
    """Number of seeds n (seeds 0..n-1), or an explicit list, or seeds until settled
    `{ min = 3, max = 20, target = 1.0 }` (ablation and grid; see `seeds` below). Every variant is trained
    with matched seeds (a paired design: variant differences are measured seed by seed)."""

    smallest_effect: float | None = Field(default=None, gt=0)
    """The smallest difference that matters (points for accuracies, the metric's unit otherwise):
    every comparison also gets a TOST equivalence test against it, so a finding can read
    "equivalent within +-1 point" instead of only "no difference detected"."""

    data: DataSection = Field(default_factory=DataSection)
    """The dataset, its split and scaling (see [data])."""

    model: ModelSpec
    """The baseline network (see [model]); `kind` picks the family."""

    train: TrainSection = Field(default_factory=TrainSection)
    """How each trial trains (see [train])."""

    budget: Budget | None = None
    """Optional limits; variants over budget are not trained (see [budget])."""

    factor: list[Factor] = Field(default_factory=list)
    """The hyperparameters to vary, one [[factor]] table each, in the order the report shows them."""

    search: Search | None = None
    """design = "search" only: the sampler, number of trials, objective, pruner and confirmation."""

    isolation: Isolation | None = None
    """design = "isolation" only: the search budget per scientific level, the sampler, the objective
    and the confirmation seeds (all defaults when the table is left out)."""

    _source: str = PrivateAttr(default="<study>")

    @field_validator("name")
    @classmethod
    def _name_is_a_file_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise PydanticCustomError(
                "invalid", "must start with a letter or digit and use only letters, digits, '.', '_' "
                "and '-', got {name}", {"name": repr(name)})
        return name

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds_are_usable(cls, seeds: Any) -> Any:
        if isinstance(seeds, dict | SeedRule):
            return seeds
        if isinstance(seeds, bool) or not isinstance(seeds, int | list):
            raise PydanticCustomError(
                "invalid", "must be a number of seeds, a list of seeds or { min, max, target }, got {v}",
                {"v": repr(seeds)})
        if isinstance(seeds, int) and seeds < 1:
            raise PydanticCustomError("invalid", "must be >= 1 (the number of seeds), got {v}", {"v": seeds})
        if isinstance(seeds, int) and seeds > MAX_SEEDS:
            raise PydanticCustomError("invalid", "must be at most {m} (the number of seeds), got {v}",
                                      {"m": MAX_SEEDS, "v": seeds})
        if isinstance(seeds, list):
            if not seeds:
                raise PydanticCustomError("invalid", "the list of seeds is empty", {})
            bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
            if bad:
                raise PydanticCustomError("invalid", "seeds must be integers >= 0, got {v}",
                                          {"v": repr(bad[0])})
            if len(seeds) > MAX_SEEDS:
                raise PydanticCustomError("invalid", "at most {m} seeds, got a list of {n}",
                                          {"m": MAX_SEEDS, "n": len(seeds)})
            huge = [s for s in seeds if s > MAX_SEED]
            if huge:
                raise PydanticCustomError("invalid", "seeds must be at most {m}, got {v}",
                                          {"m": MAX_SEED, "v": huge[0]})
            repeated = [s for i, s in enumerate(seeds) if s in seeds[:i]]
            if repeated:
                raise PydanticCustomError("invalid", "seed {v} is listed twice", {"v": repeated[0]})
        return seeds

    @property
    def source(self) -> str:
        """The file this study was loaded from (used in messages), or "<study>"."""
        return self._source

    @field_validator("seeds", mode="after")
    @classmethod
    def _max_at_least_min(cls, seeds: Any) -> Any:
        # here rather than on SeedRule: a model validator there would name the union member in messages
        if isinstance(seeds, SeedRule) and seeds.max < seeds.min:
            raise PydanticCustomError("invalid", "max ({mx}) must be >= min ({mn})",
                                      {"mx": seeds.max, "mn": seeds.min})
        return seeds

    @model_validator(mode="after")
    def _settling_needs_an_ablation_or_grid(self) -> StudySpec:
        if isinstance(self.seeds, SeedRule) and self.design == "search":
            raise PydanticCustomError(
                "invalid", "seeds = { min, max, target } is for ablation and grid designs; a search "
                "gives its confirmation seeds in [search] confirm", {})
        return self

    @property
    def seed_list(self) -> list[int]:
        """The seeds every variant is trained with first, sorted (`min` of a SeedRule)."""
        if isinstance(self.seeds, SeedRule):
            return list(range(self.seeds.min))
        return list(range(self.seeds)) if isinstance(self.seeds, int) else sorted(self.seeds)

    @property
    def seed_rule(self) -> SeedRule | None:
        """Seeds until settled, when the file asks for it."""
        return self.seeds if isinstance(self.seeds, SeedRule) else None

    def baseline_config(self) -> TrialConfig:
        """The baseline trial's config: this study's data, model and train sections, without the
        run defaults (`run_defaults`)."""
        return TrialConfig(data=trial_section(self.data, "data"), model=self.model,
                           train=trial_section(self.train, "train"))

    def run_defaults(self) -> RunSettings:
        """The run settings this file asks for (`train.device`, `train.threads`, ...); the command
        line overrides them."""
        values = {field: getattr(getattr(self, section), key) for (section, key), field in RUN_KEYS.items()}
        return RunSettings(**values)

    @property
    def folder(self) -> str | None:
        """The folder of the study file (relative data paths resolve against it), or None."""
        if self._source.startswith("<"):
            return None
        import os

        return os.path.dirname(os.path.abspath(self._source))
