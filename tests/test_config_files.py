"""Any file given as a config gives a run or one line saying why, in about a second:
odd encodings, binary or huge files, deep nesting, aliases, keys given twice, YAML 1.1
booleans, and names that would escape results/ (issue 15, classes 3, 4, 5 and 11)."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest
import yaml

from simulator import load_config
from simulator.cli import main
from simulator.config import read_yaml
from simulator.config_file import MOST_BYTES, MOST_DEPTH
from simulator.folders import safe_component
from simulator.output import default_folder

GOOD = """\
horizon_months: 2
replications: 10
segments:
  mid: {size: 50}
strategies:
  connect:
    plan: free
    playbook:
      - segment: mid
        touches: [{kind: connect}]
"""


def refused(tmp_path: Path, capsys, content: str | bytes, name: str = "bad.yaml") -> str:
    """Validate a file holding `content`: exit 2, one line naming the file, no traceback,
    in well under a few seconds. Returns the line."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    started = time.monotonic()
    code = main(["validate", str(path)])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    assert err[0].startswith(f"{path}: "), err[0]
    assert elapsed < 3, elapsed
    return err[0]


def accepted(tmp_path: Path, content: str | bytes, name: str = "ok.yaml"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return load_config(path)


# --- class 5: files ------------------------------------------------------------------


def test_a_binary_file_is_one_line(tmp_path, capsys):
    line = refused(tmp_path, capsys, bytes(range(256)) * 40)
    assert "not text in UTF-8" in line


def test_a_file_with_nul_bytes_is_one_line(tmp_path, capsys):
    line = refused(tmp_path, capsys, GOOD.encode() + b"\x00\x00\x00")
    assert "a binary file" in line


def test_a_latin_1_file_is_one_line_asking_for_utf_8(tmp_path, capsys):
    line = refused(tmp_path, capsys, GOOD.replace("mid", "m\xe9dium").encode("latin-1"))
    assert "save the file as UTF-8" in line


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_a_text_with_a_byte_order_mark_is_read(tmp_path, encoding):
    bom = {"utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    config = accepted(tmp_path, bom + GOOD.encode(encoding))
    assert list(config.segments) == ["mid"]


def test_a_50_mb_file_is_refused_after_reading_a_bounded_size(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as file:
        file.write(GOOD.encode())
        file.truncate(50 * 2**20)  # 50 MB
    started = time.monotonic()
    assert main(["validate", str(big)]) == 2
    assert time.monotonic() - started < 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"larger than {MOST_BYTES // 1024} kB" in err[0]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_dev_zero_as_the_config_is_one_line(capsys):
    started = time.monotonic()
    assert main(["run", "/dev/zero", "--quiet"]) == 2
    assert time.monotonic() - started < 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("/dev/zero: ") and "larger than" in err[0]


def test_a_folder_as_the_config_is_one_line(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read the file" in err[0]


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_100_000_nested_brackets_are_one_line(tmp_path, capsys, opening):
    closing = "]" if opening == "[" else "}"
    line = refused(tmp_path, capsys, opening * 100_000 + closing * 100_000)
    assert f"nested more than {MOST_DEPTH} levels deep" in line


def test_nesting_as_deep_as_a_real_config_is_fine(tmp_path):
    assert accepted(tmp_path, GOOD).horizon_months == 2


def test_aliases_that_expand_a_billion_times_are_one_line(tmp_path, capsys):
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        laughs.append(f"a{level}: &a{level} [{refs}]")
    line = refused(tmp_path, capsys, "\n".join(laughs) + "\n")
    assert "once YAML aliases are expanded" in line


def test_an_alias_inside_itself_is_one_line(tmp_path, capsys):
    line = refused(tmp_path, capsys, "segments: &loop {mid: *loop}\n")
    assert "a YAML alias that contains itself" in line


def test_an_alias_used_as_intended_is_fine(tmp_path):
    text = GOOD + "  inmail:\n    plan: sales_navigator_core\n    playbook: *book\n"
    text = text.replace("    playbook:\n      - segment", "    playbook: &book\n      - segment")
    config = accepted(tmp_path, text)
    assert config.strategies["inmail"].playbook == config.strategies["connect"].playbook


# --- class 4: a key given twice --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "written", "reason"),
    [
        ("seed", "2026-13-01", "month must be in 1..12"),
        ("name", "2026-02-30", "day is out of range for month"),
        ("name", "2026-02-14 25:00:00", "hour must be in 0..23"),
    ],
)
def test_a_value_yaml_reads_as_an_impossible_date_is_one_line(
    tmp_path, capsys, key, written, reason
):
    """YAML takes `2026-13-01` for a date and then fails to build it: one line naming the
    key, not a traceback."""
    line = refused(tmp_path, capsys, f"{key}: {written}\n" + GOOD)
    assert line.endswith(f": {key}: '{written}' is not a date ({reason})"), line


def test_a_top_level_key_given_twice_names_both_lines(tmp_path, capsys):
    line = refused(tmp_path, capsys, "seed: 1\n" + GOOD + "seed: 2\n")
    assert line.endswith("seed: given twice (lines 1 and 12); keep one"), line


def test_a_strategy_given_twice_names_both_lines(tmp_path, capsys):
    twice = GOOD + "  connect:\n    plan: premium_business\n    playbook: []\n"
    line = refused(tmp_path, capsys, twice)
    assert "strategies.connect: given twice (lines 6 and 11)" in line


def test_a_key_given_twice_on_one_line_is_refused(tmp_path, capsys):
    line = refused(tmp_path, capsys, GOOD.replace("{size: 50}", "{size: 50, size: 60}"))
    assert "segments.mid.size: given twice (lines 4 and 4)" in line


def test_every_key_given_twice_is_reported_at_once(tmp_path, capsys):
    path = tmp_path / "twice.yaml"
    path.write_text("seed: 1\nseed: 2\n" + GOOD.replace("{size: 50}", "{size: 5, size: 6}"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": ")[1] for line in err] == ["seed", "segments.mid.size"]


def test_a_merge_key_may_override_what_it_merges(tmp_path):
    text = GOOD.replace(
        "  mid: {size: 50}",
        "  base: &base {size: 50, open_profile_share: 0.1}\n  mid: {<<: *base, size: 80}",
    )
    mid = accepted(tmp_path, text).segments["mid"]
    assert mid.size == 80 and mid.open_profile_share == 0.1


# --- class 11: YAML 1.1 booleans ---------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "meant"),
    [("yes", "yes"), ("true", "yes"), ("no", "none"), ("false", "none"), ("none", "none")],
)
def test_followup_inmail_reads_as_an_analyst_writes_it(tmp_path, written, meant):
    text = GOOD + f"plans:\n  free: {{followup_inmail: {written}}}\n"
    assert accepted(tmp_path, text).plans["free"].followup_inmail == meant


def test_a_word_that_yaml_1_1_reads_as_a_boolean_stays_a_name(tmp_path):
    text = GOOD.replace("mid", "no").replace("connect:\n", "on:\n", 1)
    config = accepted(tmp_path, text)
    assert list(config.segments) == ["no"] and list(config.strategies) == ["on"]


@pytest.mark.parametrize(("written", "meant"), [("yes", True), ("no", False), ("true", True)])
def test_yes_and_no_still_mean_true_and_false_where_a_yes_no_is_asked(tmp_path, written, meant):
    text = GOOD.replace("[{kind: connect}]", f"[{{kind: connect, note: {written}}}]")
    config = accepted(tmp_path, text)
    assert config.strategies["connect"].playbook[0].touches[0].note is meant


@pytest.mark.parametrize(
    ("written", "meant"), [("1e3", 1000), ("1.5e3", 1500), ("2E3", 2000), ("1_000", 1000)]
)
def test_a_count_in_scientific_notation_is_a_number(tmp_path, written, meant):
    """`replications: 1e3` was refused with "unable to parse string as an integer": YAML
    1.1 reads 1e3 as text (it wants 1.0e+3); YAML 1.2, and an analyst, read a number."""
    text = GOOD.replace("replications: 10", f"replications: {written}")
    config = accepted(tmp_path, text.replace("{size: 50}", f"{{size: {written}}}"))
    assert config.replications == meant and config.segments["mid"].size == meant


def test_a_name_that_looks_like_scientific_notation_survives_the_results_folder(tmp_path):
    """A strategy called "1e6" (quoted, a name): config.yaml wrote it bare, which reads
    back as a number, so the report of the run failed."""
    text = GOOD.replace("  connect:\n", '  "1e6":\n')
    config = accepted(tmp_path, text)
    assert list(config.strategies) == ["1e6"]
    out = tmp_path / "out"
    args = ["run", str(tmp_path / "ok.yaml"), "--out", str(out), "--no-report", "--quiet"]
    assert main(args) == 0
    assert load_config(out / "config.yaml") == config


def test_scientific_notation_too_large_is_refused_as_such(tmp_path, capsys):
    line = refused(tmp_path, capsys, GOOD.replace("replications: 10", "replications: 1e400"))
    assert line.endswith("replications: Input should be a finite number"), line


def test_the_docs_example_of_followup_inmail_validates(tmp_path):
    """docs/config.md writes `followup_inmail` values as none, after_response and yes."""
    for value in ("none", "after_response", "yes"):
        text = GOOD + f"plans:\n  free:\n    followup_inmail: {value}\n"
        assert accepted(tmp_path, text).plans["free"].followup_inmail == value


# --- class 3: names used in paths --------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../outside", "/etc/cron.d/x", "..", ".hidden", "a\\b", "Q3 / EMEA", "x" * 100]
)
def test_a_config_name_in_a_path_is_one_safe_bounded_component(tmp_path, name):
    folder = default_folder(tmp_path / "results", name)
    assert folder.parent == tmp_path / "results"
    assert "/" not in folder.name and "\\" not in folder.name
    assert not folder.name.startswith(".")
    assert len(folder.name.encode()) <= 255


def test_a_run_of_a_config_named_to_escape_stays_in_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text("name: ../../escaped\n" + GOOD)
    assert main(["run", "c.yaml", "--quiet", "--no-report", "--runs", "3"]) == 0
    made = list(Path("results").iterdir())
    assert len(made) == 1 and made[0].name.startswith("_.._escaped-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "results"]


def test_a_cjk_name_keeps_its_letters_within_the_byte_bound():
    assert safe_component("策略" * 100) == "策略" * 20  # 120 bytes of UTF-8
    assert safe_component("") == "campaign"


def test_an_out_folder_name_of_5000_characters_is_one_line(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(GOOD)
    out = tmp_path / ("x" * 5000)
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "longer than 255 bytes" in err[0] and len(err[0]) < 300


def test_the_file_name_default_is_cut_to_a_name_not_refused(tmp_path):
    config = accepted(tmp_path, GOOD, name="n" * 200 + ".yaml")
    assert config.name == "n" * 100


def test_yaml_text_reads_the_same_as_pyyaml_for_a_shipped_config():
    root = Path(__file__).resolve().parents[1] / "configs"
    for path in sorted(root.glob("*.yaml")):
        assert read_yaml(path) == yaml.safe_load(path.read_text()), path
