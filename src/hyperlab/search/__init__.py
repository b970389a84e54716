"""Search studies (design = "search"): Optuna proposes configurations from the factors' ranges and
choices; hyperlab's store stays the one record of what was trained.

`SearchDriver` rebuilds an in-memory Optuna study from the stored trials and proposes the next
configurations; `SAMPLERS` and `PRUNERS` map a study file's names to Optuna's (one line each);
`distributions` turns the spec's search space into Optuna distributions; `should_prune` decides
from the store whether a trial stops after an epoch (in any process: runner, worker, stacked hook).
The runner trains what the driver proposes (hyperlab.proposers.SearchProposer); hyperlab.analysis.search
analyses the result.
"""

from hyperlab.search.driver import RESULT_STATUSES, Entry, SearchDriver, describe_search
from hyperlab.search.prune import PruneHook, PruneRule, should_prune
from hyperlab.search.pruners import PRUNERS, make_pruner
from hyperlab.search.samplers import SAMPLERS, make_sampler
from hyperlab.search.space import distribution, distributions

__all__ = ["PRUNERS", "RESULT_STATUSES", "SAMPLERS", "Entry", "PruneHook", "PruneRule", "SearchDriver",
           "describe_search", "distribution", "distributions", "make_pruner", "make_sampler", "should_prune"]
