"""Search studies (design = "search"): Optuna proposes configurations from the factors' ranges and
choices; hyperlab's store stays the one record of what was trained.

`SearchDriver` rebuilds an in-memory Optuna study from the stored trials and proposes the next
configurations; `SAMPLERS` and `PRUNERS` map a study file's names to Optuna's (one line each);
`distributions` turns the spec's search space into Optuna distributions; `should_prune` decides
from the store whether a trial stops after an epoch (in any process: runner, worker, stacked hook).
The runner trains what the driver proposes (hyperlab.proposers.SearchProposer); hyperlab.analysis.search
analyses the result.
"""


from hyperlab._lazy import lazy_exports

_EXPORTS = {
    "RESULT_STATUSES": "hyperlab.search.driver",
    "Entry": "hyperlab.search.driver",
    "SearchDriver": "hyperlab.search.driver",
    "describe_search": "hyperlab.search.driver",
    "PruneHook": "hyperlab.search.prune",
    "PruneRule": "hyperlab.search.prune",
    "should_prune": "hyperlab.search.prune",
    "PRUNERS": "hyperlab.search.pruners",
    "make_pruner": "hyperlab.search.pruners",
    "SAMPLERS": "hyperlab.search.samplers",
    "make_sampler": "hyperlab.search.samplers",
    "distribution": "hyperlab.search.space",
    "distributions": "hyperlab.search.space",
}

__all__ = ["PRUNERS", "RESULT_STATUSES", "SAMPLERS", "Entry", "PruneHook", "PruneRule", "SearchDriver",
           "describe_search", "distribution", "distributions", "make_pruner", "make_sampler", "should_prune"]


# Exports load on first use (PEP 562): the analysis of a search imports the pure modules (space,
# prune) without the driver, which plans with torch and imports Optuna's samplers.
__getattr__ = lazy_exports(__name__, _EXPORTS)
