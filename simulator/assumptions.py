"""The assumptions a run rests on, each with its source (MODEL.md section 14).

Every default in the project's configs names its source in a trailing comment
(``accept_with_note: 0.35  # seed guide: 25-45% ...``). The resolved ``config.yaml`` of a
results folder has no comments, so a run also keeps the config file as written
(``config_source.yaml``); this module pairs each value of the resolved config with the
comment on its line there. A comment continued on the next lines, aligned under the
first or anywhere right of the key (a comment line at the key's own indentation or
left of it belongs to what follows), is part of it; the comment of a one-line mapping
(``{dist: lognormal, ...}``) holds for its keys. A key the file does not set is a
documented default. Values read as a person writes them: probabilities as percentages,
distributions in words ("uniform 25% to 45%", "Beta, mean 15%, sd 3%").
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import yaml

from simulator.config_file import ConfigFileError, parse_yaml

DEFAULT_SOURCE = "default (docs/config.md gives its source)"
NO_SOURCE = "set in the config, no source given"

#: the parts of a config that are assumptions about the world (the rest is the run and
#: the strategies, which the report shows as the scenario)
ASSUMPTION_SECTIONS = (
    "horizon_months",
    "accounts",
    "response_window_days",
    "invitations",
    "inmail",
    "plans",
    "segments",
)


def _comment_after(line: str, column: int) -> tuple[str, int] | None:
    """The comment that follows `column` on a line, and the column of its '#'."""
    rest = line[column:]
    stripped = rest.lstrip()
    if not stripped.startswith("#"):
        return None
    at = column + len(rest) - len(stripped)
    return stripped[1:].strip(), at


def source_comments(text: str) -> dict[str, str]:
    """Dotted key path (``segments.mid.rates.accept_with_note``; list items by index) ->
    the comment at the end of the key's value, with its continuation lines."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines = text.splitlines()
    out: dict[str, str] = {}

    def visit(node: yaml.Node, path: list[str], inherited: str | None = None) -> None:
        """`inherited`: the comment of an enclosing one-line ({...}) mapping or list."""
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = [*path, str(key.value)]
                comment = _trailing(key, value) or inherited
                if comment:
                    out[".".join(here)] = comment
                one_line = isinstance(value, yaml.CollectionNode) and value.flow_style
                visit(value, here, comment if one_line else None)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                visit(item, [*path, str(i)], inherited)

    def _trailing(key: yaml.Node, value: yaml.Node) -> str | None:
        block = isinstance(value, yaml.CollectionNode) and not value.flow_style
        line_no = key.end_mark.line if block else value.end_mark.line
        column = key.end_mark.column + 1 if block else value.end_mark.column
        if line_no >= len(lines):
            return None
        found = _comment_after(lines[line_no], column)
        if found is None:
            return None
        comment, _ = found
        for following in lines[line_no + 1 :]:  # continuation lines, indented past the key
            more = _comment_after(following, 0)
            if more is None or more[1] <= key.start_mark.column:
                break
            comment += " " + more[0]
        return comment

    if root is not None:
        visit(root, [])
    return out


def _leaves(value: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """Flatten a resolved config section; a delay ({dist: ...}) and a list stay whole."""
    if isinstance(value, dict) and "dist" not in value:
        out = []
        for key, item in value.items():
            out += _leaves(item, [*path, str(key)])
        return out
    return [(path, value)]


#: keys whose values are probabilities (shown as percentages) outside `rates`
_PROBABILITY_KEYS = {"good_acceptance", "poor_acceptance", "warmup_start_share"}


def _is_probability(path: list[str]) -> bool:
    last = next((p for p in reversed(path) if not p.isdigit()), "")
    if "rates" in path:
        return not last.endswith("multiplier")
    return last.endswith("_share") or last in _PROBABILITY_KEYS


def _number(x: Any, percent: bool) -> str:
    if percent and isinstance(x, int | float) and not isinstance(x, bool):
        return f"{100 * x:.4g}%"
    return f"{x:g}" if isinstance(x, float) else str(x)


def _distribution(d: dict[str, Any], percent: bool) -> str:
    """A distribution as a person writes it: 'uniform 25% to 45%', 'Beta, mean 15%, sd 3%'."""
    kind = d.get("dist")
    f = lambda key: _number(d[key], percent)  # noqa: E731
    if kind == "uniform":
        return f"uniform {f('low')} to {f('high')}"
    if kind == "triangular":
        return f"triangular {f('low')} to {f('high')}, most likely {f('mode')}"
    if kind == "beta" and d.get("mean") is not None:
        return f"Beta, mean {f('mean')}, sd {f('sd')}"
    if kind == "beta":
        return f"Beta, alpha {d['alpha']:g}, beta {d['beta']:g}"
    if kind == "lognormal":
        return f"lognormal, median {_days(d['median'])}, sigma {_shown(d['sigma'])}"
    if kind == "fixed":
        return f"fixed, {_days(d['days'])}"
    rest = ", ".join(f"{k} {_shown(v)}" for k, v in d.items() if k != "dist" and v is not None)
    return f"{kind}, {rest}" if rest else str(kind)


def _days(value: Any) -> str:
    """'1 day', '2 days', '2.5 days': a delay as a person says it."""
    return f"{_shown(value)} day" + ("" if value == 1 else "s")


def _shown(value: Any, path: list[str] | None = None) -> str:
    percent = _is_probability(path or [])
    if isinstance(value, dict) and "dist" in value:
        return _distribution(value, percent)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        parts = [_shown(item, path) for item in value]
        if path and path[-1] == "reply_after_accept":
            return "; ".join(f"message {i + 1}: {part}" for i, part in enumerate(parts))
        return ", ".join(parts)
    if value is None and path and path[-2:-1] == ["delays"]:
        return "as delays.reply"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"  # as the config file writes it
    if path and path[-1] == "price_per_month":
        return f"${value:,.2f} per seat a month"
    return _number(value, percent)


def _in_source(path: list[str], data: Any) -> bool:
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        else:
            return False
    return True


def assumptions_table(resolved: dict[str, Any], source_text: str | None) -> pd.DataFrame:
    """One row per assumption: key, value, source. Only the plans the strategies use."""
    comments = source_comments(source_text) if source_text else {}
    try:  # read as the config was (YAML 1.2 booleans: a segment called `no` keeps its name)
        written = parse_yaml(source_text, "config_source.yaml") if source_text else {}
    except ConfigFileError:
        written = {}
    used_plans = {s.get("plan") for s in resolved.get("strategies", {}).values()}
    rows = []
    for section in ASSUMPTION_SECTIONS:
        if section not in resolved:
            continue
        value = resolved[section]
        if section == "plans":
            value = {name: plan for name, plan in value.items() if name in used_plans}
        for path, leaf in _leaves(value, [section]):
            if path[:2] == ["invitations", "restriction"] and path[-1] != "enabled":
                if not resolved["invitations"]["restriction"]["enabled"]:
                    continue  # the risk's weights do not matter while it is off
            key = ".".join(path)
            source = _source(path, comments, written)
            if source == DEFAULT_SOURCE and path[0] == "plans":
                source = "built-in plan (docs/config.md gives its source)"
            rows.append({"key": key, "value": _shown(leaf, path), "source": source})
    return pd.DataFrame(rows, columns=["key", "value", "source"])


def _source(path: list[str], comments: dict[str, str], written: Any) -> str:
    key = ".".join(path)
    if key in comments:
        return comments[key]
    if not _in_source(path, written):
        return DEFAULT_SOURCE
    return NO_SOURCE
