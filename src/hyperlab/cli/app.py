"""The `hyperlab` command. Each subcommand lives in its own module and is registered below.

Exit codes (a contract other tools rely on): 0 done, 1 internal error, 2 user error (one line,
no traceback unless --debug), 130 interrupted.

`hyperlab --help` and `--version` must stay fast: the subcommand modules import only typer, rich
and the standard library at module level; torch, pandas and pydantic are imported inside the
command functions (tests/cli/test_app.py checks it in a subprocess).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _interrupted_while_starting(_signum: int, _frame: object) -> None:
    # Ctrl-C outside a run's own handling (while typer, torch and the subcommands import, or in a
    # reading command): nothing is half-written that a crash would not also leave (every write is
    # a transaction or a temp file + rename), so say so in one line and leave at once. Not by
    # raising: an exception raised inside an import can be swallowed by a library's `except:`,
    # and the command would then carry on and exit 0.
    os.write(2, b"hyperlab: error: interrupted\n")
    os._exit(130)


_AS_COMMAND = (os.path.basename(sys.argv[0]) == "hyperlab"  # the console script, or python -m hyperlab
               or sys.argv[0].endswith(os.path.join("hyperlab", "__main__.py")))
if _AS_COMMAND and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    # Until a run installs its own (runner.interrupt: finish the epoch, then stop) and after it
    # restores this one.
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import importlib  # noqa: E402  (after the handler: these imports are what takes the time)
import importlib.util  # noqa: E402
import re  # noqa: E402

import typer  # noqa: E402
from rich.markup import escape  # noqa: E402

from hyperlab._version import __version__  # noqa: E402
from hyperlab.errors import UserError  # noqa: E402
from hyperlab.faults import RunFault, environment_fault  # noqa: E402

app = typer.Typer(
    name="hyperlab",
    help="Find out how each hyperparameter changes what a neural network learns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_DEBUG = False


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"hyperlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
    version: bool = typer.Option(False, "--version", "-V", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    global _DEBUG
    _DEBUG = debug


# --- subcommands ------------------------------------------------------------------------------
# One module per subcommand under hyperlab.cli; each exposes either `app` (a typer group) or
# `command` (a function). A module that does not exist yet is simply absent from the CLI.
_SUBCOMMANDS = ["init", "run", "plan", "status", "inspect", "results", "report", "export", "studies",
                "datasets", "serve", "compare", "doctor"]


def _register() -> None:
    for name in _SUBCOMMANDS:
        module_name = f"hyperlab.cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        if hasattr(module, "app"):
            app.add_typer(module.app, name=name)
        else:
            app.command(name)(module.command)


_register()


def command() -> Any:
    """The click command tree behind `app`, with the conventions every subcommand shares applied:
    arguments named in capitals (`{STUDY}`, `{FILE}`), flags shown without a `<bool>` type, and
    help text taken literally (a `[model]` in a docstring is not rich markup)."""
    root = typer.main.get_command(app)
    _polish(root)
    return root


def _polish(cmd: Any) -> None:
    for attr in ("help", "short_help", "epilog"):
        text = getattr(cmd, attr, None)
        if isinstance(text, str) and not getattr(cmd, "_hyperlab_escaped", False):
            setattr(cmd, attr, escape(_reflow(text)))
    cmd._hyperlab_escaped = True
    for param in getattr(cmd, "params", []):
        if param.param_type_name == "argument" and param.metavar is None:
            param.metavar = param.name.upper()
        if param.param_type_name == "option" and getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # a flag takes no value: show no type for it
        if isinstance(getattr(param, "help", None), str) and not getattr(param, "_hyperlab_escaped", False):
            param.help = escape(param.help)
            param._hyperlab_escaped = True
    if not hasattr(cmd, "_hyperlab_help_option"):
        cmd._hyperlab_help_option = cmd.get_help_option  # built per context: patch what it returns

        def help_option(ctx: Any, original: Any = cmd._hyperlab_help_option) -> Any:
            option = original(ctx)
            if option is not None and option.metavar is None:
                option.metavar = ""
            return option

        cmd.get_help_option = help_option
    for sub in getattr(cmd, "commands", {}).values():
        _polish(sub)


def _reflow(text: str) -> str:
    """A docstring's paragraphs as single lines (the help formatter wraps them to the terminal);
    blank lines still separate paragraphs."""
    return re.sub(r"[ \t]*(?<!\n)\n(?!\n)[ \t]*", " ", text.strip())


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, mapping exceptions to the documented exit codes."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        rv = command().main(args=args, prog_name="hyperlab", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        _err("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad flag, missing argument
        if debug:
            raise
        message = exc.format_message()
        if message:
            _err(message)
        sys.exit(2)
    except RunFault as exc:  # the environment ended the run (disk full, read-only, damaged database)
        if debug:
            raise
        _fault_exit(exc)
    except UserError as exc:
        if debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            _err(line)
        sys.exit(2)
    except Exception as exc:  # an internal error: a bug in hyperlab, not in the user's input
        if debug:
            raise
        fault = environment_fault(exc)
        if fault is not None:
            _fault_exit(fault)
        _err(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
        sys.exit(1)
    if isinstance(rv, int) and rv != 0:
        sys.exit(rv)


def _fault_exit(fault: RunFault) -> None:
    if isinstance(fault.__cause__, BrokenPipeError) or fault.exit_code == 141:
        # stdout's reader is gone: point stdout at /dev/null so the interpreter's final flush is quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    for line in str(fault).splitlines():
        _err(line)
    sys.exit(fault.exit_code)


def _err(message: str) -> None:
    print(f"hyperlab: error: {message}", file=sys.stderr)
