"""The study file's limits: sizes a careless or hostile file could make ruinous are refused at load,
each in one line naming the key (docs/study-file.md, "Limits").

A 1 MB name would stall the terminal's highlighter, a file nested 3,000 deep the validator's
recursion, `seeds = 10**12` the memory of the process listing the seeds, `epochs = 2**63` the
run itself, `lr = inf` every number of the trial. None of these is a study anyone means, so each
has a maximum far above any real study and below the harm.

    problems = raw_problems(raw)      # on the TOML as read (and overridden): depth, strings, inf/nan
    problems = count_problems(study)  # on the validated study: seeds, levels, variants, trials, epochs
"""

from __future__ import annotations

import math
from typing import Any

from hyperlab.spec.messages import Problem, show
from hyperlab.spec.paths import format_path

MAX_DEPTH = 32  # tables and arrays inside each other (the deepest shipped study: 6)
MAX_STRING = 4096  # characters of any string value or key (PATH_MAX of Linux)
MAX_NAME = 100  # characters of the study's name (a folder name), a factor's name and a level's label
MAX_DESCRIPTION = 1000  # characters of the study's description (one line of the plan and the report)
MAX_SEEDS = 1000  # seeds per variant; and a seed is at most MAX_SEED
MAX_SEED = 2**32 - 1  # numpy's and torch's seedable range
MAX_LEVELS = 1000  # levels (or choices) of one factor
MAX_VARIANTS = 10_000  # variants of an ablation or a grid (a grid: the product of its levels)
MAX_TRIALS = 100_000  # variants x seeds; and a search's trials
MAX_EPOCHS = 100_000  # train.epochs of any variant

LIMITS = {  # what docs/study-file.md's table lists (tests/spec check that it does)
    "nesting depth (tables and arrays)": MAX_DEPTH,
    "characters of a string or key": MAX_STRING,
    "characters of `name`, a factor's `name`, a level's label": MAX_NAME,
    "characters of `description`": MAX_DESCRIPTION,
    "seeds (`seeds = N` or a list)": MAX_SEEDS,
    "a seed's value": MAX_SEED,
    "levels or choices of one factor": MAX_LEVELS,
    "variants of an ablation or a grid": MAX_VARIANTS,
    "trials (variants x seeds; a search's `trials`)": MAX_TRIALS,
    "`train.epochs` of any variant": MAX_EPOCHS,
}


def raw_problems(raw: dict[str, Any]) -> list[Problem]:
    """Nesting deeper than MAX_DEPTH, strings or keys longer than MAX_STRING, and floats that are
    not finite, anywhere in the TOML as read. Walked without recursion: the depth is what is checked.
    A study with any of these is not validated further (a deep one could not be)."""
    problems: list[Problem] = []
    stack: list[tuple[tuple, Any]] = [((), raw)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            where = format_path(path[:MAX_DEPTH])
            problems.append(Problem(where, f"nested more than {MAX_DEPTH} tables or arrays deep; "
                                           f"a study file is at most {MAX_DEPTH} deep"))
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > MAX_STRING:
                    problems.append(Problem(format_path(path), f"a key of {len(key):,} characters; keys "
                                                               f"are at most {MAX_STRING:,}"))
                    continue
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
        elif isinstance(value, str) and len(value) > MAX_STRING:
            problems.append(Problem(format_path(path), f"a string of {len(value):,} characters; strings "
                                                       f"are at most {MAX_STRING:,}"))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(Problem(format_path(path), f"must be a finite number, got {show(value)}"))
    problems.sort(key=lambda p: p.path)
    return problems[:20]  # a file of 10,000 bad values: the first ones say it


def count_problems(study: Any) -> list[Problem]:
    """Seeds, levels, variants, trials and epochs over their maxima, in a validated StudySpec (before
    its variants are expanded: a grid of 10**10 variants is refused, not built)."""
    problems: list[Problem] = []
    for i, factor in enumerate(study.factor):
        values = factor.levels if factor.levels is not None else factor.choices
        if values is not None and len(values) > MAX_LEVELS:
            key = "levels" if factor.levels is not None else "choices"
            problems.append(Problem(f"factor[{i}].{key}", f"{len(values):,} values; a factor has at most "
                                                           f"{MAX_LEVELS:,}"))
    if problems or study.design == "search":
        if study.search is not None and study.search.trials > MAX_TRIALS:
            problems.append(Problem("search.trials", f"must be at most {MAX_TRIALS:,}, got "
                                                     f"{study.search.trials:,}"))
        return problems
    levels = [len(f.levels or ()) for f in study.factor]
    variants = math.prod(levels) if study.design == "grid" else 1 + sum(levels)
    if variants > MAX_VARIANTS:
        sizes = [str(n) for n in levels]
        what = " x ".join(sizes) if study.design == "grid" else " + ".join(["1", *sizes])
        problems.append(Problem("factor", f"{variants:,} variants ({what}); a study has at most "
                                          f"{MAX_VARIANTS:,} (split it, or use design = \"search\")"))
    elif variants * len(study.seed_list) > MAX_TRIALS:
        problems.append(Problem("seeds", f"{variants:,} variants x {len(study.seed_list):,} seeds = "
                                         f"{variants * len(study.seed_list):,} trials; a study has at most "
                                         f"{MAX_TRIALS:,}"))
    return problems


def epoch_problems(configs: list[tuple[str, Any]]) -> list[Problem]:
    """`train.epochs` over MAX_EPOCHS in (origin, config) pairs: a variant's config and where in the
    file it comes from ("" for the baseline, "factor[1].levels[0]" for a level)."""
    problems = []
    for origin, config in configs:
        epochs = config.train.epochs
        if epochs > MAX_EPOCHS:
            message = f"must be at most {MAX_EPOCHS:,}, got {epochs:,}"
            problems.append(Problem(origin, f"train.epochs: {message}") if origin
                            else Problem("train.epochs", message))
    return list(dict.fromkeys(problems))
