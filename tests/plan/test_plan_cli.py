"""`hyperlab plan`: the table, --json, --set, and trials already in a real workspace store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from plan_text import BASE, edit

from hyperlab.plan import make_plan
from hyperlab.spec import load_study
from hyperlab.store import Owner, Store, StudyRow, TrialRow, VariantRow
from hyperlab_cli import hyperlab_in_process


def run_plan(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    done = hyperlab_in_process("plan", *args)
    return done.returncode, done.stdout, done.stderr


def register(workspace: Path, study_path: Path) -> list[str]:
    """Register the study's plan in a real store, as a runner does; returns its trial keys."""
    plan = make_plan(load_study(study_path))
    with Store.open(workspace) as store:
        store.register_study(
            StudyRow(plan.study.name, plan.study.design, plan.study.model_dump(mode="json"),
                     plan.study.description, plan.seeds),
            [VariantRow(v.name, v.factor, v.level, v.order, v.params, v.macs, v.flops, v.train_flops,
                        v.budget_ok, v.budget_reason) for v in plan.variants],
            [TrialRow(t.variant, t.seed, t.key, t.config.model_dump_json()) for t in plan.trials],
        )
    return plan.keys()


def test_table_lists_every_variant_with_cost_and_counts(write_study, capsys, tmp_path) -> None:
    code, out, err = run_plan(capsys, str(write_study()), "--workspace", str(tmp_path / "ws"))
    assert code == 0 and err == ""
    assert ("ablation: 8 variants x 2 seeds (seeds 0, 1) = 16 trials, 16 distinct; "
            "16 left to train of 16 within budget") in out
    for name in ("baseline", "lr=0.01", "width=[64]", "activation=activation=linear"):
        assert name in out
    assert "1,482" in out  # the baseline's parameters (64*16+16 + 16*16+16 + 16*10+10)
    assert not (tmp_path / "ws").exists()  # planning never creates a workspace


def test_json_is_the_plan_with_store_status(write_study, capsys, tmp_path) -> None:
    code, out, _ = run_plan(capsys, str(write_study()), "--json", "--set", "seeds=1",
                            "--workspace", str(tmp_path / "ws"))
    assert code == 0
    data = json.loads(out)
    assert data["study"] == "plan-tiny" and data["seeds"] == [0] and data["design"] == "ablation"
    assert [v["name"] for v in data["variants"]][:2] == ["baseline", "lr=0.01"]
    assert {"params", "macs", "flops", "budget_ok", "budget_reason", "trials"} <= set(data["variants"][0])
    assert len(data["trials"]) == 8
    assert {t["status"] for t in data["trials"]} == {"not started"}
    assert set(data["trials"][0]) == {"key", "variant", "seed", "budget_ok", "status"}


def test_trials_in_the_store_are_shown(write_study, capsys, tmp_path) -> None:
    workspace = tmp_path / "ws"
    path = write_study()
    keys = register(workspace, path)
    with Store.open(workspace) as store:  # one trial is being run by this process
        assert store.claim(keys[0], Owner.current())
    # one more level: its trials are new to the store
    bigger = write_study(edit(BASE, ("levels = [0.01, 0.1]", "levels = [0.01, 0.1, 0.3]")), "bigger.toml")
    code, out, _ = run_plan(capsys, str(bigger), "--json", "--workspace", str(workspace))
    assert code == 0
    status = {(t["variant"], t["seed"]): t["status"] for t in json.loads(out)["trials"]}
    assert status[("baseline", 0)] == "running" and status[("baseline", 1)] == "pending"
    assert status[("lr=0.3", 0)] == status[("lr=0.3", 1)] == "not started"
    code, out, _ = run_plan(capsys, str(bigger), "--workspace", str(workspace))
    assert "16 in the store" in out and "1 pending, 1 running" in out


def test_workspace_from_the_environment(write_study, capsys, tmp_path, monkeypatch) -> None:
    workspace = tmp_path / "env-ws"
    path = write_study()
    register(workspace, path)
    monkeypatch.setenv("HYPERLAB_WORKSPACE", str(workspace))
    code, out, _ = run_plan(capsys, str(path), "--json")
    assert code == 0 and {t["status"] for t in json.loads(out)["trials"]} == {"pending"}


def test_budget_exclusions_are_listed_with_their_reason(write_study, capsys, tmp_path) -> None:
    text = edit(BASE, ("[train]", "[budget]\nmax_params = 2000\n\n[train]"))
    code, out, _ = run_plan(capsys, str(write_study(text)), "--workspace", str(tmp_path / "ws"))
    assert code == 0
    assert "Not trained (over budget):" in out
    assert "width=[64]: params 4,810 > max_params 2,000" in out


def test_keys_do_not_depend_on_the_process(write_study, tmp_path) -> None:
    """Keys from a separate process (another hash seed) equal the ones computed here."""
    path = write_study()
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    proc = subprocess.run([sys.executable, "-m", "hyperlab", "plan", str(path), "--json", "--workspace",
                           str(tmp_path / "ws")], capture_output=True, text=True, env=env, check=True)
    assert [t["key"] for t in json.loads(proc.stdout)["trials"]] == \
        [t.key for t in make_plan(load_study(path)).trials]


def test_plan_shows_the_stacks_a_run_trains_with_their_memory(capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    code, out, _ = run_plan(capsys, "studies/quickstart.toml", "--set", "seeds=4")
    assert code == 0
    table = out[out.index("Stacks"):]
    rows = [line.split("│")[1:-1] for line in table.splitlines() if line.startswith("│")]
    # the 7 one-hidden-layer variants of all 4 seeds in one stack, each depth level in one more
    assert [(cells[0].strip(), cells[1].strip(), cells[3].strip()) for cells in rows] == [
        ("1", "28", "0-3"), ("2", "4", "0-3"), ("3", "4", "0-3")]
    assert all(cells[5].strip().endswith("MiB") for cells in rows)
    code, out, _ = run_plan(capsys, "studies/quickstart.toml", "--set", "seeds=4", "--json")
    stacks = json.loads(out)["stacks"]
    assert [s["trials"] for s in stacks] == [28, 4, 4] and stacks[0]["seeds"] == [0, 1, 2, 3]
    assert stacks[1]["params"] == 8970 and stacks[1]["memory_bytes"] > stacks[0]["memory_bytes"] / 28 * 4
