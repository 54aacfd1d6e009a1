"""Names in any script make readable chart labels, with no flood of missing-glyph
warnings, whether or not the machine has a CJK font (issue 15, class 13)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from simulator import charts
from simulator.charts import FONT_FAMILIES, font_families, new_figure, readable, save

HAS_CJK = ord("策") in charts._drawable()
HAS_EMOJI = ord("🚀") in charts._drawable()


def test_the_default_font_comes_first_and_fallbacks_are_only_installed_ones():
    families = font_families()
    assert families[0] == "DejaVu Sans"
    assert set(families) <= set(FONT_FAMILIES)
    assert charts.STYLE["font.family"] == list(families)


@pytest.mark.parametrize("name", ["connect_first", "Ünïcödé", "стратегия", "Q3 / EMEA 50%"])
def test_a_name_the_fonts_can_draw_is_left_as_it_is(name):
    assert readable(name) == name


@pytest.mark.skipif(HAS_CJK, reason="a CJK font is installed: CJK is drawn as it is")
def test_cjk_without_a_cjk_font_is_transliterated():
    assert readable("策略一") == "CeLueYi"
    assert readable("営業 A") == "YingYe A"  # spaces and Latin letters kept


@pytest.mark.skipif(HAS_EMOJI, reason="an emoji font is installed")
def test_an_emoji_without_a_font_becomes_its_name():
    assert readable("🚀 InMail") == ":rocket: InMail"


def test_two_names_that_differ_stay_different():
    assert readable("策略一") != readable("策略二")


def draw_legend(names: list[str], folder: Path) -> Path:
    with charts.style():
        fig = new_figure(4, 3)
        ax = fig.subplots()
        for name in names:
            ax.plot([0, 1], [0, 1], label=name)
        ax.set_yticks([0, 1], labels=names[:2])
        ax.legend()
        ax.set_title(f"{names[0]} against {names[1]}")
    return save(fig, folder, "legend")["svg"]


def test_saving_a_chart_with_cjk_and_emoji_labels_warns_nothing(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = draw_legend(["策略一", "🚀 InMail", "cost $5 $x"], tmp_path)
    assert [str(w.message) for w in caught] == []
    text = svg.read_text()
    for name in ["策略一", "🚀 InMail"]:
        assert readable(name) in text
    assert "cost $5 $x" in text  # a dollar in a name is a dollar, not mathematics


def test_a_run_with_cjk_and_emoji_strategy_names_writes_its_report_quietly(tmp_path):
    config = {
        "horizon_months": 2,
        "segments": {"中端市场": {"size": 60, "open_profile_share": 0.2}},
        "strategies": {
            "策略一": {
                "plan": "free",
                "playbook": [{"segment": "中端市场", "touches": [{"kind": "connect"}]}],
            },
            "🚀 InMail": {
                "plan": "sales_navigator_core",
                "playbook": [{"segment": "中端市场", "touches": [{"kind": "inmail"}]}],
            },
        },
    }
    path = tmp_path / "names.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "run", str(path), "--runs", "10", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no missing-glyph warnings, from this process or a helper
    assert (out / "report.html").exists()
    assert "策略一" in (out / "report.html").read_text(encoding="utf-8")  # HTML keeps names
