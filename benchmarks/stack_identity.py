"""Every epoch record and final metric of five reference stacks (train_group directly, digits, 3
epochs), as JSON without timings, to compare two source trees byte for byte:

    git archive main src | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base/src .venv/bin/python benchmarks/stack_identity.py /tmp/before.json
    .venv/bin/python benchmarks/stack_identity.py /tmp/after.json && cmp /tmp/before.json /tmp/after.json

The stacks: SGD variants sharing one seed (dropout, tanh, sigmoid, cosine schedule), a mixed-seed MLP
stack, three losses in one stack, Adam / AdamW-style decay across seeds, a convnet with batch norm
across seeds. Not a benchmark of speed: a check that a change to the stacked loop kept its numbers.
"""

import json
import sys

from hyperlab.data import DataConfig
from hyperlab.engine import TIMING_KEYS, TrainConfig, TrialConfig
from hyperlab.vectorized import train_group

MLP = {"kind": "mlp", "hidden": [32, 16], "init": "he_normal", "output_init": "glorot_uniform"}
CONV = {"kind": "sequential", "layers": ["conv 6 k3 p1", "bn", "relu", "maxpool 2", "conv 8 k3", "relu",
                                         "flatten", "dense 24", "relu"]}

def trial(model=None, **train):
    s = {"epochs": 3, "batch_size": 64, "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9}}
    s.update(train)
    return TrialConfig(data=DataConfig(dataset="digits"), model=model or MLP, train=TrainConfig(**s))

stacks = {
    "mlp-variants-shared": ([trial(), trial(optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.0}),
                             trial({**MLP, "dropout": 0.3}), trial({**MLP, "activation": "tanh"}),
                             trial(schedule={"name": "cosine"}),
                             trial({**MLP, "activation": "sigmoid", "dropout": 0.2})], [0] * 6),
    "mlp-seeds-mixed": ([trial(), trial({**MLP, "dropout": 0.3}), trial(),
                         trial({**MLP, "activation": "tanh"}),
                         trial(optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.5})],
                        [0, 0, 1, 2, 1]),
    "mlp-losses": ([trial(), trial(loss="nll"),
                    trial(loss={"name": "cross_entropy", "label_smoothing": 0.1})], [0, 1, 1]),
    "adam-mixed": ([trial(optimizer={"name": "adam", "lr": 0.003}),
                    trial(optimizer={"name": "adam", "lr": 0.001, "weight_decay": 0.01})], [3, 4]),
    "conv-seeds": ([trial(CONV, optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.5}),
                    trial(CONV, optimizer={"name": "sgd", "lr": 0.02, "momentum": 0.5})], [0, 1]),
}
out: dict = {}
for name, (configs, seeds) in stacks.items():
    results = train_group(configs, seeds)
    out[name] = [{"status": r.status, "epochs": [{k: v for k, v in e.items() if k not in TIMING_KEYS}
                                                  for e in r.epochs], "final": r.final} for r in results]
with open(sys.argv[1], "w") as handle:
    json.dump(out, handle, sort_keys=True)
print("wrote", sys.argv[1])
