"""Seeds until settled: which (variant, seed) to train next, from the results so far (plain data).

A study file's `seeds = { min = 3, max = 20, target = 1.0 }` starts every variant with `min` seeds.
When they are trained, `next_seeds` looks at each variant's primary comparison with the baseline,
paired by seed: it is **settled** when its 95% t-interval half-width (the interval the report prints
beside the exact test) is at most `target`, with at least `min` usable paired seeds, or when the
variant has `max` seeds. Each unsettled variant gets its next seed (the smallest it has not had),
and the baseline gets that seed too, so every pair stays matched. The rule is deterministic in the
stored results, so a killed run resumes to the same decisions. The runner asks it through
`hyperlab.proposers.settle.SeedsUntilSettled` (the API passes it in: the runner imports no analysis).

docs/report.md, "Seeds until settled", states the rule; the store keeps each addition's reason
(`Store.seed_additions`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from hyperlab.analysis.stats import CONFIDENCE, all_equal


@dataclass(frozen=True)
class SeedAddition:
    """One (variant, seed) to train next and why."""

    variant: str
    seed: int
    reason: str


def half_width(differences: Collection[float]) -> float | None:
    """The 95% t-interval half-width of the mean difference (0 with no spread; None under 2 values)."""
    diffs = np.asarray(list(differences), dtype=float)
    if len(diffs) < 2:
        return None
    if all_equal(diffs):
        return 0.0
    sd = float(diffs.std(ddof=1))
    return float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, len(diffs) - 1) * sd / math.sqrt(len(diffs)))


def next_seeds(values: Mapping[str, Mapping[int, float | None]], baseline: str, *, minimum: int, maximum: int,
               target: float, percent: bool = True) -> list[SeedAddition]:
    """The additions the rule asks for now (empty: every comparison is settled or at `maximum`).

    values: variant -> {seed: primary metric, None when the trial gave no usable value (failed,
    diverged)} for every seed the variant has been given; baseline: the reference variant's name;
    target: the half-width at which a comparison is settled, in points when `percent` (the metric is a
    fraction: 1.0 point = 0.01), else in the metric's unit."""
    limit = target / 100 if percent else target
    reference = values.get(baseline, {})
    wanted: dict[int, list[str]] = {}
    additions = []
    for variant, seeds in values.items():
        if variant == baseline or len(seeds) >= maximum:
            continue
        paired = [s for s in seeds if _usable(seeds.get(s)) and _usable(reference.get(s))]
        width = half_width([seeds[s] - reference[s] for s in paired])
        if len(paired) >= minimum and width is not None and width <= limit:
            continue
        seed = _next_free(set(seeds))
        unit = " points" if percent else ""
        scale = 100 if percent else 1
        why = (f"not settled: 95% CI half-width {scale * width:.3g}{unit} > target {target:g}{unit} with "
               f"{len(paired)} paired seeds" if width is not None and len(paired) >= minimum else
               f"not settled: {len(paired)} usable paired seeds, fewer than min = {minimum}")
        additions.append(SeedAddition(variant, seed, why))
        wanted.setdefault(seed, []).append(variant)
    for variant, seeds in values.items():  # every seed a variant has, the baseline has too (matched pairs)
        for seed in seeds:
            if variant != baseline and variant not in wanted.get(seed, []):
                wanted.setdefault(seed, []).append(variant)
    wanted = {seed: variants for seed, variants in wanted.items() if seed not in reference}
    for seed, variants in sorted(wanted.items()):
        additions.append(SeedAddition(baseline, seed, "matched seed for " + ", ".join(variants)))
    return additions


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _next_free(taken: set[int]) -> int:
    seed = 0
    while seed in taken:
        seed += 1
    return seed
