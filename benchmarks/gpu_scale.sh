#!/bin/bash
# Issue 25: the scale figures on the GPU machine, for docs/performance.md's GPU table.
# Run from the project root on the GPU machine AFTER the GPU check kit's check.sh (it installed the wheels
# into /tmp/site and built /tmp/cifar-sub.npz). Budget: ~120 s. Output: $OUT/scale-*.json, $OUT/scale.txt.
# Run as `BUDGET=380 bash .gpu/check.sh; bash benchmarks/gpu_scale.sh` (the kit copied to .gpu/).
set -u
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 HYPERLAB_OFFLINE=1 HYPERLAB_CACHE=/tmp/hlcache
OUT=${OUT:-/tmp/scale-out}; mkdir -p "$OUT"
HL="python3 -m hyperlab"; Q=studies/quickstart.toml
python3 -c "import torch, hyperlab; print('torch', torch.__version__, torch.cuda.get_device_name(), 'hyperlab', hyperlab.__version__)"
# 0. (~20 s) the captured step is exact: the quickstart at 2 seeds on CUDA with the CUDA graph and without
#    (HYPERLAB_CUDA_GRAPH=0: same stacks, eager steps); every stack without dropout is captured,
#    the dropout levels stack apart and say why they are not (stack_notes.txt).
for g in 1 0; do
  HYPERLAB_CUDA_GRAPH=$g timeout 40 $HL run $Q --device cuda --workspace /tmp/g$g --no-report --set seeds=2 --jsonl \
    > /tmp/g$g.jsonl 2>&1
  $HL results $Q --workspace /tmp/g$g --set seeds=2 --table finals --out - > /tmp/g$g.csv 2>/dev/null
done
grep -h '"stack_note"' /tmp/g1.jsonl | tee "$OUT/stack_notes.txt"
python3 - /tmp/g1.csv /tmp/g0.csv <<'PY' 2>&1 | tee -a "$OUT/scale.txt"
import sys, pandas as pd
a, b = (pd.read_csv(p) for p in sys.argv[1:])
metrics = [c for c in a.columns if any(w in c for w in ("loss", "accuracy")) and pd.api.types.is_numeric_dtype(a[c])]
m = a.merge(b, on=["variant", "seed"], suffixes=("_g", "_e"))
same = [(m[c + "_g"] == m[c + "_e"]) | (m[c + "_g"].isna() & m[c + "_e"].isna()) for c in metrics]
equal = pd.concat(same, axis=1).all(axis=1) if same else m["seed"] == m["seed"]
print(f"graph vs eager (HYPERLAB_CUDA_GRAPH=0): {int(equal.sum())}/{len(m)} trials bit-identical in {len(metrics)} metrics")
PY
# 1. (~60 s) CUDA, stacked: the quickstart at 8 and 32 seeds (target: seeds=32 done in <= 5 s) and notebook 000's
#    ablation on the 10,000-image subset, 5 epochs (target: mean GPU utilisation >= 40% while it trains).
timeout 70 python3 benchmarks/scale.py --devices cuda --sides stacked --seeds 8,32 --data /tmp/cifar-sub.npz \
  --ablation-epochs 5 --budget 45 --timeout 35 --out "$OUT" 2>&1 | tee -a "$OUT/scale.txt"
# 2. (~25 s) the quickstart at 32 seeds on the 16 CPU cores, the issue's comparison (--workers 8 --threads 2)
timeout 35 python3 benchmarks/scale.py --devices cpu --sides stacked --seeds 32 --cpu-workers 8 --cpu-threads 2 \
  --budget 5 --timeout 30 --out "$OUT" 2>&1 | tee -a "$OUT/scale.txt"
echo DONE
