"""The conventions every command follows, checked through real `hyperlab` subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cli_helpers import cli

import hyperlab

COMMANDS = ["init", "run", "plan", "status", "inspect", "results", "report", "export", "studies",
            "studies rm", "datasets list", "datasets import", "datasets verify", "serve", "compare", "doctor"]
README = Path(__file__).resolve().parents[2] / "README.md"


def test_version_and_short_help():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"hyperlab {hyperlab.__version__}"
    assert cli("-V").stdout == proc.stdout
    short, long = cli("-h"), cli("--help")
    assert short.returncode == 0 and short.stdout == long.stdout and "studies" in short.stdout
    sub = cli("results", "-h")
    assert sub.returncode == 0 and "--table" in sub.stdout


def test_every_help_names_arguments_in_capitals_and_shows_no_bool_type():
    for command in COMMANDS:
        proc = cli(*command.split(), "--help", env={"COLUMNS": "200"})
        assert proc.returncode == 0, (command, proc.stderr)
        assert "<bool>" not in proc.stdout, command
        usage = next(line for line in proc.stdout.splitlines() if "Usage:" in line)
        for name in re.findall(r"[{\[]([A-Za-z_]+)[}\]]", usage):
            assert name.isupper() or name == "OPTIONS", (command, usage)


def test_help_keeps_square_brackets_literal():
    proc = cli("inspect", "--help", env={"COLUMNS": "200"})
    assert "a TOML file with [model] (and [data])" in proc.stdout


def test_shell_completion_completes_commands():
    proc = cli(env={"_HYPERLAB_COMPLETE": "complete_bash", "COMP_WORDS": "hyperlab stu", "COMP_CWORD": "1"})
    assert proc.returncode == 0 and proc.stdout.split() == ["studies"]
    script = cli(env={"_HYPERLAB_COMPLETE": "source_bash"})  # what --show-completion prints, without
    # guessing the shell from the parent process (CI runs with no terminal and maybe no $SHELL)
    assert script.returncode == 0 and "_HYPERLAB_COMPLETE" in script.stdout


def test_help_and_version_do_not_import_torch_or_pandas():
    # An import check, not a timing: `hyperlab --help` must not pay for torch (2-5 s cold). pydantic is
    # not checked: typer itself parses parameters with it.
    code = ("import sys\nfrom hyperlab.cli.app import main\n"
            "for args in (['--help'], ['--version'], ['plan', '--help'], ['studies', '--help']):\n"
            "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('torch', 'pandas', 'numpy', 'matplotlib', 'scipy', 'sklearn', 'ray') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_readme_says_how_to_report_a_problem_and_names_no_address():
    """No public repository exists: the README says so and what to send instead, with commands that
    exist, and invents no URL (pyproject names none either: tests/test_packaging.py)."""
    text = README.read_text()
    section = text.split("## Project status and reporting problems", 1)[1].split("\n## ", 1)[0]
    assert "no public repository" in section and "private git repository" in section
    assert not re.search(r"https?://|www\.|github|gitlab", section, re.IGNORECASE)
    assert not re.search(r"https?://(?!127\.0\.0\.1)", text)  # the only address: the local dashboard
    for command in ("hyperlab --version", "--debug", "hyperlab doctor"):
        assert f"`{command}" in section, command
    assert cli("doctor", "--help").returncode == 0
    assert f"hyperlab {hyperlab.__version__}" in section.replace("hyperlab --version", "")


def test_readme_names_the_extras_the_exports_need():
    import tomllib

    extras = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    text = README.read_text()
    for extra in ("tensorboard", "mlflow"):
        assert extra in extras and f"hyperlab[{extra}]" in text, extra
