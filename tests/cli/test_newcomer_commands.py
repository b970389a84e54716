"""What a newcomer reaches for, through real `hyperlab` subprocesses: init, plan, status, results to
stdout, the one selection rule, studies / studies rm, datasets list --json."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
from cli_helpers import cli

import hyperlab
from hyperlab.spec import load_study
from hyperlab.store import Owner, Store


def test_init_writes_a_commented_study_that_parses_and_runs(tmp_path):
    proc = cli("init", "first.toml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "first.toml").read_text()
    assert text.count("#") > 20 and 'name = "first"' in text
    study = load_study(tmp_path / "first.toml")
    assert study.name == "first" and [f.name for f in study.factor] == ["learning rate", "width"]
    again = cli("init", "first.toml", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    # it runs as written (here shortened: 1 seed, 1 epoch, 200 examples)
    short = ["seeds=1", "train.epochs=1", "data.subset=200"]
    summary = hyperlab.Study.load(tmp_path / "first.toml", short).run(tmp_path / "ws", progress="quiet",
                                                                       report=False)
    assert summary.exit_code == 0 and summary.statuses == {"completed": 5}


def test_plan_says_when_nothing_is_left_to_train(trained):
    study, workspace = trained
    proc = cli("plan", str(study), "--workspace", str(workspace))
    assert proc.returncode == 0 and "nothing left to train (all 4 within budget are stored)" in proc.stdout
    fresh = cli("plan", str(study), "--workspace", str(workspace), "--set", "train.epochs=3")
    assert "4 left to train of 4 within budget, 0 in the store" in fresh.stdout


def test_results_one_table_to_stdout(trained):
    study, workspace = trained
    # by name: no study file to load (and no torch to import); the file form is tested below
    proc = cli("results", "tiny", "--workspace", str(workspace), "--table", "finals", "--out", "-")
    assert proc.returncode == 0, proc.stderr
    finals = pd.read_csv(StringIO(proc.stdout))
    assert len(finals) == 4 and "test_accuracy" in finals.columns
    assert not Path("-").exists()
    as_json = cli("results", "tiny", "--workspace", str(workspace), "--table", "trials", "--out", "-",
                  "--format", "json")
    assert len(json.loads(as_json.stdout)) == 4
    no_table = cli("results", "tiny", "--workspace", str(workspace), "--out", "-")
    assert no_table.returncode == 2 and "--table" in no_table.stderr


def test_results_files_honour_the_umask(trained, tmp_path):
    study, workspace = trained
    out = tmp_path / "tables"
    env = {k: v for k, v in os.environ.items() if k != "HYPERLAB_WORKSPACE"}
    proc = subprocess.run(["bash", "-c", 'umask 027 && exec "$0" -m hyperlab "$@"', sys.executable, "results",
                           "tiny", "--workspace", str(workspace), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert set(modes) == {"epochs.csv", "finals.csv", "trials.csv", "variants.csv", "study.json"}
    assert set(modes.values()) == {0o640}


def test_one_selection_rule_file_plus_overrides_or_name(trained):
    study, workspace = trained
    args = ("--workspace", str(workspace), "--table", "trials", "--out", "-")
    planned = cli("results", str(study), *args)
    assert "the 4 trials planned by" in planned.stderr and "(4 finished" in planned.stderr
    assert set(pd.read_csv(StringIO(planned.stdout))["status"]) == {"completed"}
    # another configuration of the same file: its own (untrained) trials, not the stored ones
    other = cli("results", str(study), "--set", "train.epochs=3", *args)
    assert other.returncode == 0 and "with --set train.epochs=3" in other.stderr
    other_trials = pd.read_csv(StringIO(other.stdout))
    assert set(other_trials["status"]) == {"pending"}
    assert not set(other_trials["trial_key"]) & set(pd.read_csv(StringIO(planned.stdout))["trial_key"])
    by_name = cli("results", "tiny", *args)
    assert "everything stored under the study name 'tiny'" in by_name.stderr
    assert len(pd.read_csv(StringIO(by_name.stdout))) == 4
    refused = cli("results", "tiny", "--set", "train.epochs=3", *args)
    assert refused.returncode == 2 and "study name" in refused.stderr
    report = cli("report", str(study), "--workspace", str(workspace))
    assert report.returncode == 0 and "the 4 trials planned by" in report.stderr
    markdown = (workspace / "reports" / "tiny" / "report.md").read_text()
    assert f"Trials reported: the 4 trials planned by {study} (4 finished" in markdown


def test_status_says_where_an_interrupted_trial_resumes(trained, tmp_path):
    study, workspace = trained
    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)
    with Store.open(copy) as store:
        key = store.study_trials("tiny")[0]["key"]
        record = store.epochs(key)[0]
        store.reset_trials([key])
        owner = Owner.current()
        assert store.claim(key, owner)
        store.record_epoch(key, owner, record)
        assert store.release(key, owner, "interrupted")
    proc = cli("status", str(study), "--workspace", str(copy), env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "seed 0: interrupted at epoch 1, resumes there" in proc.stdout
    assert "3/4 done, 0 running, 1 pending" in proc.stdout


def test_studies_lists_and_removes_with_artifacts(trained, tmp_path):
    study, workspace = trained
    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)
    twin = tmp_path / "twin.toml"  # the same trials under another name: shared, not trained again
    twin.write_text(study.read_text().replace('name = "tiny"', 'name = "twin"'))
    summary = hyperlab.Study.load(twin).run(copy, progress="quiet", report=False)
    assert summary.reused == 4
    listed = cli("studies", "--json", "--workspace", str(copy))
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {"tiny", "twin"} and rows["tiny"]["trials"] == rows["tiny"]["finished"] == 4
    assert "updated" in rows["tiny"]
    table = cli("studies", "--workspace", str(copy))
    assert "tiny" in table.stdout and "4/4" in table.stdout

    asked = cli("studies", "rm", "tiny", "--workspace", str(copy), input="")
    assert asked.returncode == 2 and "--yes" in asked.stderr
    removed = cli("studies", "rm", "tiny", "--yes", "--workspace", str(copy))
    assert removed.returncode == 0 and "0 trials no other study uses" in removed.stdout
    with Store.open(copy) as store:
        assert store.study_names() == ["twin"]
        keys = [r["key"] for r in store.study_trials("twin")]
        assert all(store.trial_dir(k).exists() for k in keys)  # shared: kept for twin
    cli("studies", "rm", "twin", "--yes", "--workspace", str(copy))
    with Store.open(copy) as store:
        assert store.study_names() == [] and store.trial_statuses(keys) == {}
        assert not any(store.trial_dir(k).exists() for k in keys)
    missing = cli("studies", "rm", "nope", "--yes", "--workspace", str(copy))
    assert missing.returncode == 2 and "no study named 'nope'" in missing.stderr


def test_datasets_list_as_json():
    proc = cli("datasets", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["digits"]["task"] == "classification" and rows["digits"]["input_shape"] == [1, 8, 8]
    assert {"where", "verified", "n_train", "n_test"} <= set(rows["cifar10"])


def test_datasets_list_wraps_long_paths_instead_of_cutting_them(tmp_path):
    root = tmp_path / ("a-folder-with-a-long-name-" * 3) / "data"
    (root / "california-housing").mkdir(parents=True)
    (root / "california-housing" / "cal_housing.data").write_text("1,2,3,4,5,6,7,8,9\n")
    proc = cli("datasets", "list", "--data-root", str(root), env={"COLUMNS": "60"})
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 60
    assert str(root / "california-housing" / "cal_housing.data") in "".join(proc.stdout.split())
    assert "…" not in proc.stdout


def test_compare_as_json_and_csv_and_whole_lines_into_a_pipe(trained):
    # issue 29: `compare --format json|csv`; piped output is not hard-wrapped at 80 columns
    _, workspace = trained
    as_json = cli("compare", "tiny", "tiny", "--format", "json", "--workspace", str(workspace))
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["metric"] == "test_accuracy" and len(document["rows"]) == 4
    row = document["rows"][0]
    assert row["variant"] == row["variant_b"] == "lr=0.01, hidden=[8]" and isinstance(row["a_mean"], float)
    assert row["p_value"] is None and "the same trials" in row["note"]  # one workspace: the very same trials
    as_csv = cli("compare", "tiny", "tiny", "--format", "csv", "--workspace", str(workspace))
    header, *rows = list(csv.reader(StringIO(as_csv.stdout)))
    assert header[:3] == ["variant", "variant_b", "matched_by"] and len(rows) == 4
    table = cli("compare", "tiny", "tiny", "--workspace", str(workspace), env={"COLUMNS": ""})  # a pipe
    summary = [line for line in table.stdout.splitlines() if "matched variants" in line]
    assert len(summary) == 1 and summary[0].rstrip().endswith("p-values Holm-adjusted."), table.stdout
    assert cli("compare", "tiny", "tiny", "--format", "xml", "--workspace", str(workspace)).returncode == 2
