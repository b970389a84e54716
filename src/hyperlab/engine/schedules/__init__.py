"""Learning-rate schedules: one module per choice, registered by name."""

from __future__ import annotations

from hyperlab.engine._registry import choice_field
from hyperlab.engine.schedules.base import ScheduleChoice
from hyperlab.engine.schedules.constant import Constant
from hyperlab.engine.schedules.cosine import Cosine
from hyperlab.engine.schedules.exponential import Exponential
from hyperlab.engine.schedules.linear_warmup import LinearWarmup
from hyperlab.engine.schedules.multistep import MultiStep
from hyperlab.engine.schedules.onecycle import OneCycle
from hyperlab.engine.schedules.step import Step

SCHEDULES: dict[str, type[ScheduleChoice]] = {
    cls.model_fields["name"].default: cls
    for cls in (Constant, Step, MultiStep, Exponential, Cosine, OneCycle, LinearWarmup)
}

ScheduleSpec = choice_field("schedule", ScheduleChoice, SCHEDULES)

__all__ = ["SCHEDULES", "Constant", "Cosine", "Exponential", "LinearWarmup", "MultiStep", "OneCycle",
           "ScheduleChoice", "ScheduleSpec", "Step"]
