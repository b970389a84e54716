"""`--executor ray` on a real multi-node Ray cluster, in a private network namespace.

The cases (ray_cluster_cases.py) start a head and two worker nodes with `ray.cluster_utils.Cluster`.
They run in a fresh network and PID namespace (`unshare -n -p -f --mount-proc`, as root, which CI
is) whose only interface is loopback: every Ray address is 127.0.0.1, no traffic can leave the
machine, and every Ray process dies with the namespace when the run ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ray_cluster_helpers import NETNS_FLAG

HERE = Path(__file__).resolve().parent


def _namespace_problem() -> str | None:
    """Why a private network namespace cannot be made here (None when it can)."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "needs unshare (util-linux) and ip (iproute2)"
    probe = subprocess.run(["unshare", "-n", "-p", "-f", "--mount-proc", "sh", "-c", "ip link set lo up"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"unshare is not permitted here: {probe.stderr.strip()[-200:]}"
    return None


@pytest.mark.timeout(420)
def test_ray_executor_cases_pass_on_a_three_node_cluster_on_loopback(tmp_path):
    import importlib.util

    # find_spec, not `import ray`: with tests/ on sys.path this folder would import as a namespace package
    spec = importlib.util.find_spec("ray")
    if spec is None or spec.origin is None:
        assert os.environ.get("HYPERLAB_REQUIRE_RAY") != "1", "the ray extra is not installed"
        pytest.skip("the ray extra is not installed (pip install -e '.[ray]')")
    problem = _namespace_problem()
    if problem:
        pytest.skip(f"no private network namespace: {problem}")
    env = {**os.environ, NETNS_FLAG: "1", "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    inner = (f"ip link set lo up && exec {sys.executable} -m pytest -q -p no:cacheprovider -p no:xdist "
             f"--rootdir {HERE.parents[1]} --basetemp {tmp_path / 'cases'} {HERE / 'ray_cluster_cases.py'}")
    proc = subprocess.run(["unshare", "-n", "-p", "-f", "--mount-proc", "sh", "-c", inner],
                          capture_output=True, text=True, timeout=400, env=env, cwd=HERE.parents[1])
    report = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, report
    assert "5 passed" in proc.stdout, report
