"""Live progress with rich: all trials with an ETA, and one line per worker with its current trial's
epoch and metrics. A line per finished trial stays in the scrollback (and in non-terminal logs)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_SHOWN_METRICS = ("train_loss", "val_loss", "val_accuracy", "val_r2")
_STATUS_STYLE = {"completed": "green", "early_stopped": "green", "diverged": "yellow", "failed": "red",
                 "interrupted": "yellow", "lost": "red"}


class RichSink:
    """Renders run events; one `Progress` display for the whole run."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TaskProgressColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._overall: TaskID | None = None
        self._workers: dict[int, TaskID] = {}
        self._epochs: dict[str, int] = {}  # key -> planned epochs of a trial in flight
        self._fractions: dict[str, float] = {}  # key -> share of its epochs done, per trial in flight
        self._reused = 0  # trials finished before this run: the bar starts where the last run stopped
        self._done = 0
        self._total = 0
        self.completed = 0.0  # trials' worth of work done (the overall bar), never decreasing
        self._started = False
        # Live bars only where they can redraw; a log file or pipe gets the per-trial lines alone.
        self._live = self.console.is_terminal or self.console.is_jupyter
        self._nodes: dict[str, str] = {}  # trial key -> " on node ..." (Ray) while it trains

    def emit(self, event: dict) -> None:
        kind = event.get("event")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(event)

    def close(self) -> None:
        if self._started:
            self._progress.stop()
            self._started = False

    # --- events ---------------------------------------------------------------------------------
    def _on_run_started(self, e: dict) -> None:
        if not e["planned"]:  # a search: its sampler proposes the trials as the run goes (search_note)
            self.console.print(f"[bold]{escape(e['study'])}[/]: a search, its trials proposed as it runs, in "
                               f"{escape(e['workspace'])}", soft_wrap=True, highlight=False)
        else:
            over = f", {e['over_budget']} variants over budget (not trained)" if e.get("over_budget") else ""
            self.console.print(
                f"[bold]{escape(e['study'])}[/]: {e['planned']} trials planned, {e['to_train']} to train, "
                f"{e['reused']} reused from {escape(e['workspace'])}{over}",
                soft_wrap=True, highlight=False)  # user strings: rich's highlighter is slow on long text
        if e["to_train"] and self._live:
            self._progress.start()
            self._started = True
            self._total = e["to_train"]
            self._reused = int(e.get("reused") or 0)
            self.completed = float(self._reused)
            info = f"0/{self._total} trials"
            self._overall = self._progress.add_task("trials", total=self._total + self._reused,
                                                    completed=self.completed, info=info)

    def _on_search_note(self, e: dict) -> None:
        """A search study's note (how its trials train, or why it stopped early)."""
        self.console.print(f"[dim]{escape(e['message'])}[/]", soft_wrap=True, highlight=False)

    def _on_note(self, e: dict) -> None:
        """Something the run decided for the user (e.g. fewer workers than asked for)."""
        self.console.print(f"[dim]{escape(e['message'])}[/]", soft_wrap=True, highlight=False)

    def _on_stack_note(self, e: dict) -> None:
        """How a stack of trials runs its step on CUDA (captured as a graph, or why not)."""
        self.console.print(f"[dim]stack of {e['trials']} trials: {e['note']}[/]", soft_wrap=True,
                           highlight=False)

    def _on_seeds_added(self, e: dict) -> None:
        """A seed added until settled (seeds = { min, max, target }), with the reason."""
        self.console.print(f"[dim]seed {e['seed']} added to {e['variant']}: {e['reason']}[/]", soft_wrap=True,
                           highlight=False)
        self._total += 1  # one more trial to train (the bar's total grows with it)
        if getattr(self, "_overall", None) is not None:
            self._progress.update(self._overall, total=self._total + self._reused)

    def _worker_task(self, e: dict) -> TaskID:
        worker = int(e.get("worker", 0))
        if worker not in self._workers:
            self._workers[worker] = self._progress.add_task("", total=1, info="")
        return self._workers[worker]

    def _on_trial_started(self, e: dict) -> None:
        self._epochs[e["key"]] = e["epochs"]
        self._fractions[e["key"]] = min((e.get("resumed_from") or 0) / max(e["epochs"], 1), 0.999)
        self._advance()
        resumed = f" (resumed after epoch {e['resumed_from']})" if e.get("resumed_from") else ""
        node = f" on node {e['node']}" if e.get("node") else ""  # --executor ray
        self._nodes[e["key"]] = node  # also on the trial's final line: the only one a log or pipe gets
        description = escape(f"  {e['variant']} seed {e['seed']}{node}")
        self._progress.update(self._worker_task(e), description=description,
                              total=e["epochs"], completed=e.get("resumed_from", 0), info=resumed)

    def _on_epoch(self, e: dict) -> None:
        metrics = e.get("metrics", {})
        info = "  ".join(f"{name} {_fmt(metrics[name])}" for name in _SHOWN_METRICS
                         if metrics.get(name) is not None)
        self._progress.update(self._worker_task(e), completed=e["epoch"], info=info)
        self._fractions[e["key"]] = min(min(e["epoch"], e["epochs"]) / max(e["epochs"], 1), 0.999)
        self._advance()

    def _advance(self) -> None:
        """The overall bar: trials reused and finished, plus each trial in flight's share of its
        epochs (all of them: stacked trials and workers train several at once). It only moves forward."""
        self.completed = max(self.completed, self._reused + self._done + sum(self._fractions.values()))
        if self._overall is not None:
            self._progress.update(self._overall, completed=self.completed)

    def _on_trial_finished(self, e: dict) -> None:
        self._epochs.pop(e["key"], None)
        self._fractions.pop(e["key"], None)
        if e["status"] != "interrupted":
            self._done += 1
        self._advance()
        if self._overall is not None:
            self._progress.update(self._overall, info=f"{self._done}/{self._total} trials")
        final = "  ".join(f"{k} {_fmt(v)}" for k, v in list((e.get("final") or {}).items())[:2])
        style = _STATUS_STYLE.get(e["status"], "white")
        seconds = f" {e['seconds']:.1f}s" if isinstance(e.get("seconds"), int | float) else ""
        reason = e.get("error") or e.get("stop_reason") or ""
        reason = f"  ({reason.splitlines()[0][:100]})" if reason and e["status"] != "completed" else ""
        trial = f"{e['variant']} seed {e['seed']}{self._nodes.pop(e['key'], '')}"
        self._progress.console.print(
            f"  [{style}]{e['status']:>13}[/] {escape(trial)}{seconds}  {escape(final)}{escape(reason)}",
            soft_wrap=True, highlight=False)  # one line per trial, also in logs narrower than the line

    def _on_waiting(self, e: dict) -> None:
        if self._overall is not None:
            info = f"waiting for {e['trials']} trials run by other processes"
            self._progress.update(self._overall, info=info)

    def _on_report_started(self, e: dict) -> None:
        self.close()
        self.console.print("writing the report...")

    def _on_run_finished(self, e: dict) -> None:
        self.close()
        counts = ", ".join(f"{n} {s}" for s, n in sorted(e.get("statuses", {}).items()))
        verb = "interrupted" if e.get("interrupted") else "done"
        self.console.print(f"[bold]{escape(e['study'])}[/]: {verb} in {e['seconds']:.1f}s ({counts})",
                           highlight=False)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)
