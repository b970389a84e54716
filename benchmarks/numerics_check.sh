#!/bin/bash
# Issue 24's check of the numerics contract: one digits study (3 variants x 2 seeds x 8 epochs, batch 8,
# SGD momentum 0.9, threads = 1) run with the default executor, with --executor local, and with the
# default executor SIGKILLed after 10 stored epochs then rerun; the three epochs.csv / finals.csv must be
# equal in every loss and accuracy column, exactly. Usage: bash benchmarks/numerics_check.sh [PYTHON]
set -u
PY=${1:-$PWD/.venv/bin/python}
W=$(mktemp -d); cd "$W"
cat > study.toml <<'TOML'
name = "numerics-check"
seeds = 2
[data]
dataset = "digits"
[model]
kind = "mlp"
hidden = [64]
[train]
epochs = 8
batch_size = 8
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }
threads = 1
[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.5]
[[factor]]
name = "depth"
path = "model.hidden"
levels = [[64, 64]]
labels = ["2 layers"]
TOML
H="$PY -m hyperlab"
$H run study.toml --workspace ws-default --no-report --quiet; echo "default rc=$?"
$H run study.toml --workspace ws-local --executor local --no-report --quiet; echo "local rc=$?"
$H run study.toml --workspace ws-killed --no-report --jsonl > killed.jsonl 2>/dev/null &
pid=$!
while [ "$(grep -c '"event": "epoch"' killed.jsonl 2>/dev/null)" -lt 10 ]; do sleep 0.05; done
kill -9 $pid; wait $pid 2>/dev/null
echo "SIGKILLed after $(grep -c '"event": "epoch"' killed.jsonl) stored epochs"
$H run study.toml --workspace ws-killed --no-report --quiet; echo "rerun rc=$?"
for w in default local killed; do $H results study.toml --workspace ws-$w --format csv --out out-$w >/dev/null 2>&1; done
$PY - <<'PYCODE'
import csv
rows = lambda w, t: list(csv.DictReader(open(f"out-{w}/{t}.csv")))
for table in ("epochs", "finals"):
    base = rows("default", table)
    cols = [c for c in base[0] if "loss" in c or "accuracy" in c]
    for w in ("local", "killed"):
        other = rows(w, table)
        same = len(other) == len(base) and all(a[c] == b[c] for a, b in zip(base, other) for c in cols)
        print(f"{table}.csv default vs {w}: {len(other)} rows, every loss/accuracy column equal: {same}")
print("trials.csv numerics:", sorted({r["numerics"] for r in rows("default", "trials")}))
PYCODE
echo "workspaces in $W"
