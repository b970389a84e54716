"""`--executor ray` without a cluster: the optional extra missing, flags that need it, lazy imports."""

from __future__ import annotations

import subprocess
import sys

from ray_cluster_helpers import driver_env, study_toml

from hyperlab.runner.ray_executor import last_line

# `import ray` then raises ImportError, as when the extra is not installed
WITHOUT_RAY = "import sys\nsys.modules['ray'] = None\n"


def run_cli_code(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=driver_env(None), cwd=cwd)


def test_executor_ray_without_ray_installed_says_how_to_install_it_in_one_line(tmp_path):
    (tmp_path / "study.toml").write_text(study_toml("no-ray", 1))
    code = WITHOUT_RAY + ("from hyperlab.cli.app import main\n"
                          "main(['run', 'study.toml', '--executor', 'ray', '--workspace', 'ws'])\n")
    proc = run_cli_code(code, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "hyperlab: error: --executor ray needs Ray: pip install hyperlab[ray]"]


def test_ray_flags_without_executor_ray_are_rejected(tmp_path):
    (tmp_path / "study.toml").write_text(study_toml("no-ray", 1))
    proc = run_cli_code("from hyperlab.cli.app import main\nmain(['run', 'study.toml', "
                        "'--cpus-per-trial', '2', '--ray-address', 'x:1'])\n", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "hyperlab: error: --ray-address, --cpus-per-trial: only with --executor ray"]


def test_an_unknown_executor_is_a_user_error(tmp_path):
    (tmp_path / "study.toml").write_text(study_toml("no-ray", 1))
    proc = run_cli_code("from hyperlab.cli.app import main\n"
                        "main(['run', 'study.toml', '--executor', 'dask'])\n", tmp_path)
    assert proc.returncode == 2
    assert "--executor: must be one of vectorized, local, ray, got 'dask'" in proc.stderr


def test_run_help_does_not_import_ray(tmp_path):
    code = ("import sys\nfrom hyperlab.cli.app import main\n"
            "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('ray' in sys.modules)")
    proc = run_cli_code(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_the_error_stored_for_a_raising_task_is_the_last_line_of_its_remote_traceback():
    remote = ("ray::train_on_node() (pid=12, ip=127.0.0.1)\n  File \"x.py\", line 3, in f\n"
              "    raise ValueError('bad shape')\nValueError: bad shape\n\n")
    assert last_line(remote) == "ValueError: bad shape"
