"""Study files: the schema (`StudySpec`; `hyperlab.Study` is the API handle that loads, runs and reads
one), the loader with every problem at once (`load_study`), and the
expansion of factors into variant configs (`expand_variants`). docs/study-file.md is the reference."""

from __future__ import annotations

from hyperlab.spec.isolation import IsolationSpace, isolation_space
from hyperlab.spec.load import load_study, parse_override
from hyperlab.spec.messages import Problem, problems_from
from hyperlab.spec.search import SearchFactor, SearchSpace, design_problems, search_space
from hyperlab.spec.study import Budget, Confirm, Factor, Search, SeedRule, StudySpec
from hyperlab.spec.variants import SECTIONS, VariantSpec, expand_variants, label_of

__all__ = [
    "SECTIONS",
    "Budget",
    "Confirm",
    "Search",
    "SearchFactor",
    "SearchSpace",
    "design_problems",
    "search_space",
    "Factor",
    "IsolationSpace",
    "isolation_space",
    "Problem",
    "SeedRule",
    "StudySpec",
    "VariantSpec",
    "expand_variants",
    "label_of",
    "load_study",
    "parse_override",
    "problems_from",
]
