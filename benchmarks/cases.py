"""What is benchmarked: the notebooks' models at their batch sizes and at the engine's best
settings, and groups of variants for the vectorized trainer."""

from __future__ import annotations

from dataclasses import dataclass, field

SEED000_MLP = {"kind": "mlp", "hidden": [32, 16, 64, 32, 16, 64], "activation": "relu", "init": "he_normal",
               "output_init": "glorot_uniform"}  # 104,298 parameters
LENET = {"kind": "sequential", "layers": ["conv 6 k5", "relu", "maxpool 2", "conv 16 k5", "relu", "maxpool 2",
                                          "flatten", "dense 120", "relu", "dense 84", "relu"]}  # 62,006
SEED004_164K = {"kind": "sequential", "layers": [
    "conv 25 k5", "bn", "relu", "maxpool 2", "conv 50 k5", "bn", "relu", "maxpool 2", "flatten",
    "dense 100", "bn", "relu", "dense 50", "bn", "relu"]}  # 164,310: notebook 004's final network
RESNET8 = {"kind": "resnet", "widths": [16, 32, 64], "blocks": 1}  # 78,042 parameters


@dataclass
class ModelCase:
    """One model: the notebook's batch size and optimizer, and the engine's best batch size."""

    name: str
    spec: dict
    seed_batch: int  # the batch size its notebook trains with
    best_batch: int  # the engine's batch size for speed
    optimizer: dict  # the seed's optimizer
    convolutional: bool
    source: str  # where the model and batch size come from
    best_precision: str = "bf16"  # the engine's faster precision for this model (fp32 for the MLP)


MODELS = [
    ModelCase("notebook-000 MLP", SEED000_MLP, 256, 512, {"name": "sgd", "lr": 0.01, "momentum": 0.45}, False,
              "notebook 000 main model, batch 256", best_precision="fp32"),
    ModelCase("LeNet", LENET, 8, 256, {"name": "sgd", "lr": 0.001, "momentum": 0.9}, True,
              "notebook 004's tutorial LeNet, batch 8"),
    ModelCase("notebook-004 164k", SEED004_164K, 8, 256, {"name": "sgd", "lr": 0.001, "momentum": 0.9}, True,
              "notebook 004's final network (163,860 + batch norm = 164,310), batch 8"),
    ModelCase("ResNet-8 (78k)", RESNET8, 128, 256, {"name": "sgd", "lr": 0.01, "momentum": 0.9}, True,
              "hyperlab's resnet kind, widths 16/32/64, 1 block per stage; batch 128 as notebook 002"),
]


@dataclass
class VectorCase:
    """K variants of one model trained at once vs one after the other."""

    name: str
    batch_size: int
    precision: str
    specs: list[dict] = field(default_factory=list)
    trains: list[dict] = field(default_factory=list)  # each: {"optimizer": {...}, ...}


def seed000_variants() -> tuple[list[dict], list[dict]]:
    """The 8 factor levels of the notebook-000 study that share the architecture and batch size:
    lr 0.0005 / 0.05, momentum 0 / 0.95, output L2 0.01 / 0.5, dropout 0.2 every other / every layer."""
    base_opt = {"name": "sgd", "lr": 0.01, "momentum": 0.45}
    specs, trains = [], []
    for lr in (0.0005, 0.05):
        specs.append(SEED000_MLP)
        trains.append({"optimizer": {**base_opt, "lr": lr}})
    for momentum in (0.0, 0.95):
        specs.append(SEED000_MLP)
        trains.append({"optimizer": {**base_opt, "momentum": momentum}})
    for l2 in (0.01, 0.5):
        specs.append({**SEED000_MLP, "l2": {"output_kernel": l2, "output_bias": l2}})
        trains.append({"optimizer": base_opt})
    for every in (2, 1):
        specs.append({**SEED000_MLP, "dropout": 0.2, "dropout_every": every})
        trains.append({"optimizer": base_opt})
    return specs, trains


def lenet_variants() -> tuple[list[dict], list[dict]]:
    """8 LeNet variants: learning rate x momentum x weight decay (2 x 2 x 2)."""
    trains = [{"optimizer": {"name": "sgd", "lr": lr, "momentum": m, "weight_decay": wd}}
              for lr in (0.001, 0.01) for m in (0.0, 0.9) for wd in (0.0, 5e-4)]
    return [LENET] * len(trains), trains


def vector_cases(quick: bool) -> list[VectorCase]:
    mlp_specs, mlp_trains = seed000_variants()
    lenet_specs, lenet_trains = lenet_variants()
    cases = [
        VectorCase("8 notebook-000 MLP variants, batch 256, fp32", 256, "fp32", mlp_specs, mlp_trains),
        VectorCase("8 notebook-000 MLP variants, batch 256, bf16", 256, "bf16", mlp_specs, mlp_trains),
        VectorCase("8 LeNet variants, batch 8, fp32", 8, "fp32", lenet_specs, lenet_trains),
        VectorCase("8 LeNet variants, batch 64, fp32", 64, "fp32", lenet_specs, lenet_trains),
    ]
    if not quick:
        cases.append(VectorCase("8 LeNet variants, batch 256, bf16", 256, "bf16", lenet_specs, lenet_trains))
    return cases
