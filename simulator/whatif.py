"""Live what-if: sliders that re-run a config on common random numbers as they move.

A planner moves a rate, a plan, the seats or a daily pace and sees every strategy's
distribution of the objective (cost per reply, per positive reply or per meeting) and the
verdict line move. Each change re-runs the whole config with the same seed, so a shift
in the picture comes from the change, not from luck.

The controls are data (:class:`Control`: a dotted path into the config, its range, its
value as configured); :func:`simulate` is the update as a plain function, the same
numbers as :func:`simulator.run` on the edited config; :class:`WhatIf` puts them on
ipywidgets (the optional extra ``[notebook]``). A rate given as a distribution keeps its
draws until its slider moves: the slider spans the distribution's range, and moving it
fixes the rate at that value in every replication.
"""

from __future__ import annotations

import asyncio
import html
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from simulator.api import Results, run
from simulator.config import Config, Distribution, Rates
from simulator.playbook import parameters_used
from simulator.sensitivity import parameter_label
from simulator.uncertainty import frozen, with_values
from simulator.verdict import verdict_sentence

#: replications per update: enough for a stable picture within about a second
REPLICATIONS = 2000
#: seconds a change waits for the next one before the re-run starts
DEBOUNCE_SECONDS = 0.1
#: a distribution's slider spans this central share of it (all of a uniform or triangular)
SPAN = 0.99


@dataclass(frozen=True)
class Control:
    """One thing a planner can change: a field of the config by dotted path.

    `value` is the field as configured; None for a rate given as a distribution, which is
    drawn per replication until it is fixed. A number control takes values in
    [`low`, `high`] by `step`; a choice control takes one of `options`."""

    path: str
    label: str
    group: str
    value: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    integer: bool = False

    def check(self, value: Any) -> Any:
        """The value, if this control can take it; else ValueError saying why."""
        if self.options:
            if value not in self.options:
                raise ValueError(
                    f"{self.path}: {value!r} is not one of the choices ({', '.join(self.options)})"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.path}: expected a number, got {value!r}")
        assert self.low is not None and self.high is not None
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise ValueError(
                f"{self.path}: {value!r} is outside the slider's range "
                f"{self.reads(self.low)} to {self.reads(self.high)}"
            )
        if self.integer and value != int(value):
            raise ValueError(f"{self.path}: expected a whole number, got {value!r}")
        return int(value) if self.integer else float(value)

    def reads(self, value: float) -> str:
        """A value as a person reads it: a share in %, a count or multiplier as it is."""
        if self.integer or (self.high is not None and self.high > 1):
            return f"{value:g}"
        return f"{value:.1%}".replace(".0%", "%")


def _rate_control(path: str, label: str, group: str, value: Any, multiplier: bool) -> Control:
    if isinstance(value, Distribution):
        spread = frozen(value)
        tail = (1 - SPAN) / 2
        low = value.low if value.low is not None else float(spread.ppf(tail))
        high = value.high if value.high is not None else float(spread.ppf(1 - tail))
        return Control(path, label, group, None, low=round(low, 3), high=round(high, 3), step=0.005)
    high = max(3.0, 2 * value) if multiplier else 1.0
    step = 0.01 if multiplier else 0.005
    return Control(path, label, group, float(value), low=0.0, high=high, step=step)


def controls(config: Config) -> list[Control]:
    """Every control of the config: the rates its playbooks use, per segment; each
    strategy's plan and daily paces; the seats; the weekly invitation limit."""
    found = []
    used = set().union(*(parameters_used(config, name) for name in config.strategies))
    for segment, seg in config.segments.items():
        for field in Rates.model_fields:
            value = getattr(seg.rates, field)
            multiplier = field.endswith("multiplier")
            path = f"segments.{segment}.rates.{field}"
            items = (
                [(f"{path}.{i}", item) for i, item in enumerate(value)]
                if isinstance(value, list)
                else [(path, value)]
            )
            for where, item in items:
                if where in used:  # named as the sensitivity table names it, in its tab
                    label = parameter_label(where).removeprefix(f"{segment}: ")
                    found.append(_rate_control(where, label, segment, item, multiplier))
    plans = tuple(config.plans)
    for name, strategy in config.strategies.items():
        found.append(Control(f"strategies.{name}.plan", "plan", name, strategy.plan, options=plans))
        for kind, pace in strategy.daily_pace.model_dump().items():
            if pace is not None:
                found.append(
                    Control(
                        f"strategies.{name}.daily_pace.{kind}",
                        f"{kind} a day",
                        name,
                        pace,
                        low=1,
                        high=max(50, 3 * pace),
                        step=1,
                        integer=True,
                    )
                )
    found.append(
        Control(
            "accounts",
            "seats",
            "scenario",
            config.accounts,
            low=1,
            high=max(10, 3 * config.accounts),
            step=1,
            integer=True,
        )
    )
    limit = config.invitations.weekly_limit
    if not isinstance(limit, Distribution):
        found.append(
            Control(
                "invitations.weekly_limit",
                "weekly invitation limit",
                "scenario",
                limit,
                low=1,
                high=max(300, 2 * limit),
                step=1,
                integer=True,
            )
        )
    return found


def edited(config: Config, changes: dict[str, Any], known: list[Control] | None = None) -> Config:
    """The config with `changes` (dotted path -> value) put in, each checked against its
    control's range first, then the whole config validated again."""
    by_path = {c.path: c for c in (known if known is not None else controls(config))}
    checked = {}
    for path, value in changes.items():
        if path not in by_path:
            raise ValueError(f"{path}: not a control of this config")
        checked[path] = by_path[path].check(value)
    return with_values(config, checked)


def simulate(
    config: Config,
    changes: dict[str, Any],
    replications: int = REPLICATIONS,
    seed: int | None = None,
) -> Results:
    """One update: the config with `changes`, run on `seed` (the config's by default)."""
    return run(edited(config, changes), replications=replications, seed=seed)


class Debounce:
    """Calls `action` once changes stop for `wait` seconds (at once outside an event loop,
    as in a script or a test; in a notebook the kernel's loop runs it)."""

    def __init__(self, action: Callable[[], None], wait: float = DEBOUNCE_SECONDS):
        self.action = action
        self.wait = wait
        self._pending: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.action()
            return
        if self._pending is not None:
            self._pending.cancel()
        self._pending = loop.call_later(self.wait, self.action)


def _groups(items: list[Control]) -> Iterator[tuple[str, list[Control]]]:
    order: dict[str, list[Control]] = {}
    for item in items:
        order.setdefault(item.group, []).append(item)
    yield from order.items()


def _png(results: Results, metric: str) -> bytes:
    """The objective's distribution per strategy, as the report draws it, in PNG bytes."""
    from simulator.charts import cost_per_reply_chart, png_bytes

    return png_bytes(cost_per_reply_chart(results.runs, metric))


class WhatIf:
    """The sliders, the picture and the verdict of one config (see :func:`whatif`).

    Moving a widget re-runs after :data:`DEBOUNCE_SECONDS` without a further move;
    :meth:`set` changes a control from code and re-runs at once. `results`, `verdict` and
    `changes` hold the latest run."""

    def __init__(
        self, config: Config, replications: int = REPLICATIONS, seed: int | None = None
    ) -> None:
        import ipywidgets as widgets

        self.config = config
        self.replications = replications
        self.seed = config.seed if seed is None else seed
        self.controls = controls(config)
        self.changes: dict[str, Any] = {}
        self.results: Results | None = None
        self.verdict = ""
        self.seconds = 0.0
        self._widgets: dict[str, Any] = {}
        self._fixed: dict[str, Any] = {}
        self._quiet = False
        self._debounce = Debounce(self._rerun)
        self.picture = widgets.Image(format="png")
        self.message = widgets.HTML()
        tabs = []
        for group, items in _groups(self.controls):
            tabs.append((group, widgets.VBox([self._widget(item) for item in items])))
        self.tabs = widgets.Tab(children=[box for _, box in tabs])
        for i, (group, _) in enumerate(tabs):
            self.tabs.set_title(i, group)
        self.view = widgets.VBox([self.message, self.picture, self.tabs])

    def _widget(self, control: Control) -> Any:
        import ipywidgets as widgets

        style = {"description_width": "16em"}
        layout = widgets.Layout(width="36em")
        if control.options:
            box = widgets.Dropdown(
                options=list(control.options),
                value=control.value,
                description=control.label,
                style=style,
                layout=layout,
            )
        else:
            cls = widgets.IntSlider if control.integer else widgets.FloatSlider
            start = control.value if control.value is not None else (control.low + control.high) / 2
            box = cls(
                value=start,
                min=control.low,
                max=control.high,
                step=control.step,
                description=control.label,
                continuous_update=False,
                style=style,
                layout=layout,
                readout_format="d" if control.integer else ".3f",
            )
        self._widgets[control.path] = box
        box.observe(lambda change, c=control: self._moved(c, change["new"]), names="value")
        if control.value is None:  # drawn per replication until fixed
            fixed = widgets.Checkbox(value=False, description="fixed (else drawn per run)")
            fixed.observe(lambda change, c=control: self._toggled(c, change["new"]), names="value")
            self._fixed[control.path] = fixed
            return widgets.HBox([box, fixed])
        return box

    def _moved(self, control: Control, value: Any) -> None:
        if self._quiet:
            return
        self.changes[control.path] = control.check(value)
        if control.path in self._fixed and not self._fixed[control.path].value:
            self._quiet = True
            self._fixed[control.path].value = True
            self._quiet = False
        self._debounce()

    def _toggled(self, control: Control, fixed: bool) -> None:
        if self._quiet:
            return
        if fixed:
            self.changes[control.path] = control.check(self._widgets[control.path].value)
        else:
            self.changes.pop(control.path, None)
        self._debounce()

    def set(self, path: str, value: Any) -> None:
        """Change one control from code (the slider follows) and re-run at once. A value
        outside the control's range is refused with ValueError, nothing changed."""
        control = next((c for c in self.controls if c.path == path), None)
        if control is None:
            known = ", ".join(c.path for c in self.controls)
            raise ValueError(f"{path}: not a control of this config (controls: {known})")
        value = control.check(value)
        self._quiet = True
        try:
            self._widgets[path].value = value
            if path in self._fixed:
                self._fixed[path].value = True
        finally:
            self._quiet = False
        self.changes[path] = value
        self.update()

    def update(self) -> None:
        """Re-run the config with the current changes and redraw. A combination the config
        refuses (a plan without the InMails a playbook needs) raises ValueError."""
        start = time.perf_counter()
        results = simulate(self.config, self.changes, self.replications, self.seed)
        self.results = results
        chosen = results.config
        self.verdict = verdict_sentence(
            results.runs, chosen.objective, chosen.value_per_meeting, chosen.horizon_months
        )
        self.picture.value = _png(results, results.config.objective)
        self.seconds = time.perf_counter() - start
        self.message.value = f"<b>{html.escape(self.verdict)}</b>"

    def _rerun(self) -> None:
        """A widget's move: the update, or the reason it was refused in place of the verdict
        (the picture stays that of the last run)."""
        try:
            self.update()
        except ValueError as refused:
            self.message.value = f"<b>Not run:</b> {html.escape(str(refused))}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if self.results is None:
            self.update()
        display(self.view)


def whatif(config: Config, replications: int = REPLICATIONS, seed: int | None = None) -> WhatIf:
    """Sliders for `config`'s rates, plans, seats and paces, its objective's distributions
    and the verdict, re-run on the same seed at every change. In a notebook::

        from simulator import load_config
        from simulator.whatif import whatif
        whatif(load_config("configs/compare_seed_programmes.yaml"))
    """
    return WhatIf(config, replications, seed)
