"""load_study: a valid file, defaults, seeds, and `--set` overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_text import BASE, edit

from hyperlab.errors import UserError
from hyperlab.spec import expand_variants, load_study, parse_override


def test_the_base_study_loads_with_defaults_filled_in(write_study) -> None:
    study = load_study(write_study())
    assert study.name == "tiny" and study.design == "ablation"
    assert study.seed_list == [0, 1]
    assert study.model.kind == "mlp" and study.model.hidden == [16, 16]
    assert study.train.optimizer.name == "sgd" and study.train.optimizer.lr == 0.05
    assert study.train.device == "auto"  # a default the file did not write
    assert study.data.validation == 0.1
    assert [f.name for f in study.factor] == ["lr", "width", "activation"]
    assert study.budget is None
    assert study.source.endswith("study.toml")


def test_seeds_as_a_list_are_sorted(write_study) -> None:
    study = load_study(write_study(edit(BASE, ("seeds = 2", "seeds = [7, 3, 5]"))))
    assert study.seed_list == [3, 5, 7]


def test_seeds_until_settled_and_smallest_effect_are_read_and_checked(write_study) -> None:
    study = load_study(write_study(edit(BASE, ("seeds = 2", "seeds = { min = 3, max = 6, target = 1.0 }\n"
                                                            "smallest_effect = 1.0"))))
    assert study.seed_list == [0, 1, 2] and study.seed_rule.max == 6 and study.seed_rule.target == 1.0
    assert study.smallest_effect == 1.0
    assert load_study(write_study(BASE)).seed_rule is None  # seeds = 2 keeps meaning fixed
    for bad, message in (("{ min = 4, max = 3, target = 1.0 }", "max (3) must be >= min (4)"),
                         ("{ min = 3, max = 6 }", "seeds.target"),
                         ("{ min = 3, max = 6, target = 0 }", "seeds.target")):
        with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_study(write_study(edit(BASE, ("seeds = 2", f"seeds = {bad}"))))
    with pytest.raises(UserError, match="smallest_effect"):
        load_study(write_study(edit(BASE, ("seeds = 2", "seeds = 2\nsmallest_effect = -1"))))


@pytest.mark.parametrize(("option", "check"), [
    ("train.epochs=5", lambda s: s.train.epochs == 5),
    ("data.subset=256", lambda s: s.data.subset == 256),
    ("seeds=3", lambda s: s.seed_list == [0, 1, 2]),
    ("seeds=[4, 2]", lambda s: s.seed_list == [2, 4]),
    ("data.validation=test", lambda s: s.data.validation == "test"),  # not TOML: taken as a string
    ('name="other-name"', lambda s: s.name == "other-name"),
    ("model.hidden=[64, 64, 64]", lambda s: s.model.hidden == [64, 64, 64]),
    ("train.optimizer.momentum=0.5", lambda s: s.train.optimizer.momentum == 0.5
     and s.train.optimizer.lr == 0.05),  # the other optimizer keys stay
    ("design=grid", lambda s: s.design == "grid"),
    ("factor.0.levels=[0.2]", lambda s: s.factor[0].levels == [0.2]),
    ("train.early_stopping.patience=3", lambda s: s.train.early_stopping.patience == 3),
    ("budget.max_params=1000", lambda s: s.budget.max_params == 1000),
])
def test_set_overrides_any_key(write_study, option, check) -> None:
    study = load_study(write_study(), [option])
    assert check(study), option


def test_set_into_a_table_the_file_wrote_as_a_name_keeps_the_name(write_study) -> None:
    text = edit(BASE, ('optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }', 'optimizer = "adam"'))
    study = load_study(write_study(text), ["train.optimizer.lr=0.003"])
    assert study.train.optimizer.name == "adam" and study.train.optimizer.lr == 0.003


def test_set_into_a_section_the_file_left_out(write_study) -> None:
    text = edit(BASE, ("[data]\ndataset = \"digits\"\nsubset = 200\n", ""))
    study = load_study(write_study(text), ["data.subset=64"])
    assert study.data.dataset == "digits" and study.data.subset == 64


def test_later_set_wins(write_study) -> None:
    assert load_study(write_study(), ["train.epochs=5", "train.epochs=7"]).train.epochs == 7


def test_parse_override_reads_toml_values() -> None:
    assert parse_override("a.b=1") == (("a", "b"), 1)
    assert parse_override("a=0.5") == (("a",), 0.5)
    assert parse_override("a=true") == (("a",), True)
    assert parse_override("a=[1, 2]") == (("a",), [1, 2])
    assert parse_override("a = mnist ") == (("a",), "mnist")
    assert parse_override("a=npz:/tmp/x.npz") == (("a",), "npz:/tmp/x.npz")
    assert parse_override("factor.1.name=x") == (("factor", 1, "name"), "x")
    for bad in ("a", "=1", "a..b=1"):
        with pytest.raises(ValueError):
            parse_override(bad)


def test_set_problems_name_the_option_and_file_problems_name_the_file(write_study) -> None:
    path = write_study(edit(BASE, ("epochs = 2", "epochs = 0")))
    with pytest.raises(UserError) as info:
        load_study(path, ["train.batch_size=-1", "model.hidden.5=3"])
    lines = str(info.value).splitlines()
    assert lines == [
        "--set model.hidden.5=3: model.hidden has no item 5",
        f"{path}: train.epochs: must be >= 1, got 0",
        "--set train.batch_size=-1: train.batch_size: must be >= 1, got -1",
    ]


def test_set_can_fix_a_file(write_study) -> None:
    path = write_study(edit(BASE, ("epochs = 2", "epochs = 0")))
    assert load_study(path, ["train.epochs=1"]).train.epochs == 1


def test_a_level_equal_to_the_baseline_is_its_own_variant(write_study) -> None:
    study = load_study(write_study(edit(BASE, ("levels = [0.01, 0.1]", "levels = [0.01, 0.05]"))))
    variants, problems = expand_variants(study)
    assert problems == []
    same = next(v for v in variants if v.name == "lr=0.05")
    assert same.config == variants[0].config and not same.is_baseline and variants[0].is_baseline


def test_validation_has_the_two_stages_study_file_md_documents(tmp_path):
    """Stage 1, the file (levels included), all at once; stage 2, the plan (models built for their
    data, losses for the task), only once the file is valid (docs/study-file.md, Errors)."""
    from hyperlab.plan import make_plan

    written = edit(BASE, ('"model.activation" = "linear"', '"model.activation" = "lineer"'),
                   ("epochs = 2", "epochs = 0"), ("batch_size = 32", "batch_size = 0"))
    path = tmp_path / "written.toml"
    path.write_text(written)
    with pytest.raises(UserError) as error:
        load_study(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 3 and "factor[2].levels[1]: model.activation" in lines[2]

    planned = edit(BASE, ("levels = [0.01, 0.1]", 'levels = [0.01, 0.1]\n\n[[factor]]\nname = "loss"\n'
                          'path = "train.loss"\nlevels = ["bce"]'))
    path.write_text(edit(planned, ("epochs = 2", "epochs = 0")))
    with pytest.raises(UserError) as error:
        make_plan(load_study(path))
    assert str(error.value).splitlines() == [f"{path}: train.epochs: must be >= 1, got 0"]
    path.write_text(planned)
    with pytest.raises(UserError, match=r"factor\[1\]\.levels\[0\]: train.loss: .*needs exactly 2 classes"):
        make_plan(load_study(path))
    doc = (Path(__file__).resolve().parents[2] / "docs" / "study-file.md").read_text()
    assert "The check has two stages" in doc and "only after the file's problems are fixed" in doc
