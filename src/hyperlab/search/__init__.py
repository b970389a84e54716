"""Search studies (design = "search"): Optuna proposes configurations from the factors' ranges and
choices; hyperlab's store stays the one record of what was trained.

`SearchDriver` rebuilds an in-memory Optuna study from the stored trials and proposes the next
configurations; `SAMPLERS` and `PRUNERS` map a study file's names to Optuna's (one line each);
`distributions` turns the spec's search space into Optuna distributions. The runner trains what
the driver proposes (hyperlab.runner.search); hyperlab.analysis.search analyses the result.
"""

from hyperlab.search.driver import RESULT_STATUSES, Entry, SearchDriver, describe_search
from hyperlab.search.pruners import PRUNERS, make_pruner
from hyperlab.search.samplers import SAMPLERS, make_sampler
from hyperlab.search.space import distribution, distributions

__all__ = ["PRUNERS", "RESULT_STATUSES", "SAMPLERS", "Entry", "SearchDriver", "describe_search",
           "distribution", "distributions", "make_pruner", "make_sampler"]
