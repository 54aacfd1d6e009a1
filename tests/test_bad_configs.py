"""Every bad config gets one line per mistake naming file, field and reason, and exit 2."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.cli import main

GOOD: dict[str, Any] = {
    "horizon_months": 2,
    "replications": 10,
    "segments": {"mid": {"size": 50, "rates": {"reply_after_accept": [0.15, 0.06]}}},
    "strategies": {
        "connect": {
            "plan": "free",
            "daily_pace": {"connect": 10},
            "playbook": [
                {
                    "segment": "mid",
                    "new_per_day": 5,
                    "touches": [{"kind": "connect", "on_accept": [{"wait_days": 0}]}],
                }
            ],
        }
    },
}


def seg(c: dict) -> dict:
    return c["segments"]["mid"]


def entry(c: dict) -> dict:
    return c["strategies"]["connect"]["playbook"][0]


def touch(c: dict) -> dict:
    return entry(c)["touches"][0]


def observed(c: dict, counts: dict) -> None:
    """Observed counts on a segment whose observed rates have priors (distributions)."""
    prior = {"dist": "uniform", "low": 0.05, "high": 0.5}
    seg(c)["rates"].update(
        accept_with_note=prior, inmail_reply_paid=prior, reply_after_accept=[prior, 0.06]
    )
    seg(c)["observed"] = counts


Change = Callable[[dict], Any]

# (what is wrong, how to break GOOD, field path in the message, fragment of the reason)
CASES: list[tuple[str, Change, str, str]] = [
    ("typo at the top", lambda c: c.update(horizon_monts=3), "horizon_monts", "Extra inputs"),
    ("typo in a segment", lambda c: seg(c).update(sise=5), "segments.mid.sise", "Extra inputs"),
    (
        "typo in a rate",
        lambda c: seg(c)["rates"].update(accept_with_notes=0.3),
        "segments.mid.rates.accept_with_notes",
        "Extra inputs",
    ),
    (
        "typo in a strategy",
        lambda c: c["strategies"]["connect"].update(playbok=[]),
        "strategies.connect.playbok",
        "Extra inputs",
    ),
    (
        "typo in a plan override",
        lambda c: c.update(plans={"free": {"prise": 1}}),
        "plans.free.prise",
        "Extra inputs",
    ),
    (
        "typo in the limits",
        lambda c: c.update(invitations={"weekly_limt": 80}),
        "invitations.weekly_limt",
        "Extra inputs",
    ),
    (
        "a word for a number",
        lambda c: c.update(horizon_months="twelve"),
        "horizon_months",
        "valid integer",
    ),
    ("a list for a mapping", lambda c: c.update(segments=[1, 2]), "segments", "dictionary"),
    (
        "a word for a yes/no",
        lambda c: touch(c).update(note="maybe"),
        "strategies.connect.playbook.0.touches.0.note",
        "valid boolean",
    ),
    (
        "a word for a count",
        lambda c: entry(c).update(new_per_day="ten"),
        "strategies.connect.playbook.0.new_per_day",
        "valid integer",
    ),
    (
        "a probability above 1",
        lambda c: seg(c)["rates"].update(accept_with_note=1.2),
        "segments.mid.rates.accept_with_note",
        "less than or equal to 1",
    ),
    (
        "a negative probability",
        lambda c: seg(c)["rates"].update(inmail_reply_paid=-0.1),
        "segments.mid.rates.inmail_reply_paid",
        "greater than or equal to 0",
    ),
    (
        "an Open Profile share above 1",
        lambda c: seg(c).update(open_profile_share=2),
        "segments.mid.open_profile_share",
        "less than or equal to 1",
    ),
    (
        "a sequence rate above 1",
        lambda c: seg(c)["rates"].update(reply_after_accept=[0.1, 1.5]),
        "segments.mid.rates.reply_after_accept.1",
        "less than or equal to 1",
    ),
    (
        "a negative list size",
        lambda c: seg(c).update(size=-1),
        "segments.mid.size",
        "greater than or equal to 0",
    ),
    (
        "negative arrivals",
        lambda c: seg(c).update(new_per_month=-3),
        "segments.mid.new_per_month",
        "greater than or equal to 0",
    ),
    (
        "a horizon of 0",
        lambda c: c.update(horizon_months=0),
        "horizon_months",
        "greater than or equal to 1",
    ),
    (
        "a horizon beyond 1000 months",
        lambda c: c.update(horizon_months=5000),
        "horizon_months",
        "less than or equal to 1000",
    ),
    (
        "no replications",
        lambda c: c.update(replications=0),
        "replications",
        "greater than or equal to 1",
    ),
    ("no seats", lambda c: c.update(accounts=0), "accounts", "greater than or equal to 1"),
    (
        "a negative weekly limit",
        lambda c: c.update(invitations={"weekly_limit": -10}),
        "invitations.weekly_limit",
        "greater than or equal to 0",
    ),
    ("a negative seed", lambda c: c.update(seed=-1), "seed", "greater than or equal to 0"),
    (
        "a negative pace",
        lambda c: c["strategies"]["connect"]["daily_pace"].update(connect=-1),
        "strategies.connect.daily_pace.connect",
        "greater than or equal to 0",
    ),
    (
        "credits that expire at once",
        lambda c: c.update(inmail={"credit_expiry_days": 0}),
        "inmail.credit_expiry_days",
        "greater than or equal to 1",
    ),
    (
        "a plan that does not exist",
        lambda c: c["strategies"]["connect"].update(plan="gold"),
        "strategies.connect.plan",
        "unknown plan 'gold'",
    ),
    (
        "a segment that does not exist",
        lambda c: entry(c).update(segment="enterprise"),
        "strategies.connect.playbook.0.segment",
        "unknown segment 'enterprise'",
    ),
    (
        "a touch that does not exist",
        lambda c: entry(c).update(touches=[{"kind": "carrier_pigeon"}]),
        "strategies.connect.playbook.0.touches.0",
        "does not match any of the expected tags",
    ),
    (
        "a follow-up with no InMail before it",
        lambda c: entry(c).update(touches=[{"kind": "inmail_followup"}]),
        "strategies.connect.playbook.0.touches.0.kind",
        "must follow an inmail",
    ),
    (
        "two requests in one route",
        lambda c: entry(c)["touches"].append({"kind": "connect", "if_no_reply_after_days": 0}),
        "strategies.connect.playbook.0.touches.1.kind",
        "a second connect in one route asks the prospect of touch 0 again as soon as it is "
        "withdrawn; a route holds one request (give touch 0 reinvite: true",
    ),
    (
        "two InMails in one route",
        lambda c: entry(c)["touches"].extend([{"kind": "inmail"}, {"kind": "inmail"}]),
        "strategies.connect.playbook.0.touches.2.kind",
        "a second inmail in one route messages the prospect of touch 1 again while it is "
        "unanswered; a route holds one InMail (an inmail_followup after it sends the one "
        "follow-up allowed)",
    ),
    (
        "a wait range the wrong way round",
        lambda c: entry(c)["touches"].append({"kind": "inmail", "if_no_reply_after_days": [10, 7]}),
        "strategies.connect.playbook.0.touches.1.if_no_reply_after_days",
        "low (10) must not exceed high (7)",
    ),
    (
        "health thresholds the wrong way round",
        lambda c: c.update(invitations={"poor_acceptance": 0.4}),
        "invitations.poor_acceptance",
        "must be below good_acceptance",
    ),
    (
        "more messages than reply rates",
        lambda c: touch(c).update(on_accept=[{"wait_days": 0}] * 3),
        "strategies.connect.playbook.0.touches.0.on_accept",
        "3 messages but segment 'mid' has 2",
    ),
    (
        "a segment twice in one playbook",
        lambda c: c["strategies"]["connect"]["playbook"].append(copy.deepcopy(entry(c))),
        "strategies.connect.playbook.1.segment",
        "listed twice",
    ),
    (
        "a fallback to a touch that does not exist",
        lambda c: entry(c)["touches"].insert(0, {"kind": "email", "fallback": "li"}),
        "strategies.connect.playbook.0.touches.0.fallback",
        "no touch named 'li' in this route",
    ),
    (
        "a fallback loop",
        lambda c: entry(c).update(
            touches=[
                {"kind": "inmail", "name": "first"},
                {"kind": "email", "fallback": "first"},
            ]
        ),
        "strategies.connect.playbook.0.touches.1.fallback",
        "a fallback loop (1 (email) -> 0 (inmail) -> 1 (email))",
    ),
    (
        "two touches with one name",
        lambda c: entry(c).update(
            touches=[{"kind": "inmail", "name": "x"}, {"kind": "email", "name": "x"}]
        ),
        "strategies.connect.playbook.0.touches.1.name",
        "'x' already names touch 0",
    ),
    (
        "a tier with no reachable touch",
        lambda c: entry(c).update(touches=[{"kind": "engage"}, {"kind": "email"}]),
        "strategies.connect.playbook.0.touches",
        "no touch can get a reply (engage gets no reply; email needs segments.mid.email_share",
    ),
    (
        "a negative hourly rate",
        lambda c: c.update(costs={"hourly_rate": -30}),
        "costs.hourly_rate",
        "greater than or equal to 0",
    ),
    (
        "a cost for a touch that does not exist",
        lambda c: c.update(costs={"per_send": {"fax": 1.0}}),
        "costs.per_send.fax",
        "Extra inputs",
    ),
    (
        "an email share above 1",
        lambda c: seg(c).update(email_share=1.5),
        "segments.mid.email_share",
        "less than or equal to 1",
    ),
    ("no strategies", lambda c: c.update(strategies={}), "strategies", "at least 1 item"),
    ("no segments", lambda c: c.update(segments={}), "segments", "at least 1 item"),
    (
        "an empty playbook",
        lambda c: c["strategies"]["connect"].update(playbook=[]),
        "strategies.connect.playbook",
        "at least 1 item",
    ),
    (
        "a route with no touch",
        lambda c: entry(c).update(touches=[]),
        "strategies.connect.playbook.0.touches",
        "at least 1 item",
    ),
    (
        "a new plan missing its credits",
        lambda c: c.update(plans={"gold": {"price_per_month": 10, "credits_cap": 5}}),
        "plans.gold.credits_per_month",
        "Field required",
    ),
    (
        "a delay median of 0",
        lambda c: seg(c).update(delays={"reply": {"dist": "lognormal", "median": 0}}),
        "segments.mid.delays.reply.median",
        "greater than 0",
    ),
    (
        "a delay beyond its window",
        lambda c: seg(c).update(delays={"accept": {"dist": "fixed", "days": 40}}),
        "segments.mid.delays.accept.days",
        "beyond the 21-day window",
    ),
    (
        "a delay distribution that does not exist",
        lambda c: seg(c).update(delays={"reply": {"dist": "poisson", "mean": 2}}),
        "segments.mid.delays.reply",
        "does not match any of the expected tags",
    ),
    (
        "a distribution with low above high",
        lambda c: seg(c)["rates"].update(
            accept_with_note={"dist": "uniform", "low": 0.45, "high": 0.25}
        ),
        "segments.mid.rates.accept_with_note.low",
        "must not exceed high",
    ),
    (
        "a triangular mode outside low..high",
        lambda c: seg(c)["rates"].update(
            reply_after_accept=[{"dist": "triangular", "low": 0.1, "mode": 0.3, "high": 0.2}, 0.1]
        ),
        "segments.mid.rates.reply_after_accept.0.mode",
        "outside low..high",
    ),
    (
        "a uniform probability above 1",
        lambda c: seg(c)["rates"].update(
            inmail_reply_paid={"dist": "uniform", "low": 0.5, "high": 1.5}
        ),
        "segments.mid.rates.inmail_reply_paid.high",
        "outside the range of a probability",
    ),
    (
        "a Beta mean outside (0, 1)",
        lambda c: seg(c)["rates"].update(
            inmail_reply_paid={"dist": "beta", "mean": 1.2, "sd": 0.1}
        ),
        "segments.mid.rates.inmail_reply_paid.mean",
        "strictly between 0 and 1",
    ),
    (
        "a Beta sd too large for its mean",
        lambda c: seg(c)["rates"].update(
            inmail_reply_paid={"dist": "beta", "mean": 0.1, "sd": 0.35}
        ),
        "segments.mid.rates.inmail_reply_paid.sd",
        "too large for a Beta with mean 0.1",
    ),
    (
        "a distribution that does not exist for a rate",
        lambda c: seg(c)["rates"].update(positive_share={"dist": "normal", "mean": 0.5}),
        "segments.mid.rates.positive_share.dist",
        "Input should be 'uniform', 'triangular' or 'beta'",
    ),
    (
        "a parameter of another distribution",
        lambda c: seg(c)["rates"].update(
            meeting_share={"dist": "uniform", "low": 0.2, "high": 0.4, "mode": 0.3}
        ),
        "segments.mid.rates.meeting_share.mode",
        "not a parameter of a uniform distribution",
    ),
    (
        "a negative weekly limit drawn",
        lambda c: c.update(invitations={"weekly_limit": {"dist": "uniform", "low": -5, "high": 9}}),
        "invitations.weekly_limit.low",
        "outside the range of a count",
    ),
    (
        "a delay median drawn from zero",
        lambda c: seg(c).update(
            delays={
                "accept": {"dist": "lognormal", "median": {"dist": "uniform", "low": 0, "high": 3}}
            }
        ),
        "segments.mid.delays.accept.median.low",
        "must be above 0",
    ),
    (
        "more accepted than sent",
        lambda c: observed(c, {"sent": 100, "accepted": 120, "replied": 5}),
        "segments.mid.observed.accepted",
        "120 accepted but only 100 sent",
    ),
    (
        "more replied than accepted",
        lambda c: observed(c, {"sent": 100, "accepted": 20, "replied": 25}),
        "segments.mid.observed.replied",
        "25 replied but only 20 accepted",
    ),
    (
        "more InMail replies than InMails",
        lambda c: observed(c, {"inmail": {"sent": 10, "replied": 11}}),
        "segments.mid.observed.inmail.replied",
        "11 replied but only 10 sent",
    ),
    # numbers that would pass a type check and then break or mislead (issue 15, class 4)
    (
        "a Beta with a standard deviation of NaN",
        lambda c: seg(c)["rates"].update(
            inmail_reply_paid={"dist": "beta", "mean": 0.2, "sd": float("nan")}
        ),
        "segments.mid.rates.inmail_reply_paid.sd",
        "finite number",
    ),
    (
        "an infinite price",
        lambda c: c.update(plans={"free": {"price_per_month": float("inf")}}),
        "plans.free.price_per_month",
        "finite number",
    ),
    (
        "an infinite hourly rate",
        lambda c: c.update(costs={"hourly_rate": float("inf")}),
        "costs.hourly_rate",
        "finite number",
    ),
    (
        "a price of 1e300",
        lambda c: c.update(plans={"free": {"price_per_month": 1e300}}),
        "plans.free.price_per_month",
        "less than or equal to 1000000000",
    ),
    (
        "a delay weight of 1e308",
        lambda c: seg(c).update(delays={"reply": {"dist": "pmf", "probs": [1e308, 1]}}),
        "segments.mid.delays.reply.probs.0",
        "less than or equal to 1000000000",
    ),
    (
        "a wait of 1e20 days",
        lambda c: entry(c)["touches"].append({"kind": "inmail", "if_no_reply_after_days": 10**20}),
        "strategies.connect.playbook.0.touches.1.if_no_reply_after_days",
        "a wait of at most 1000 days, got 100000000000000000000",
    ),
    (
        "a message wait range ending at 1e20 days",
        lambda c: touch(c).update(on_accept=[{"wait_days": [2, 10**20]}]),
        "strategies.connect.playbook.0.touches.0.on_accept.0.wait_days",
        "a wait of at most 1000 days",
    ),
    # a wait written as one value that is no whole number: one line saying what a wait is
    # (pydantic asked for "a valid tuple"; a negative number was two lines, one per end)
    (
        "a negative wait",
        lambda c: touch(c).update(on_accept=[{"wait_days": -1}]),
        "strategies.connect.playbook.0.touches.0.on_accept.0.wait_days",
        "a wait of at least 0 days, got -1",
    ),
    (
        "a wait of half a day",
        lambda c: entry(c)["touches"].append({"kind": "inmail", "if_no_reply_after_days": 1.5}),
        "strategies.connect.playbook.0.touches.1.if_no_reply_after_days",
        "a whole number of days, or [low, high] to draw from per prospect, got 1.5",
    ),
    (
        "a wait in words",
        lambda c: touch(c).update(on_accept=[{"wait_days": "a week"}]),
        "strategies.connect.playbook.0.touches.0.on_accept.0.wait_days",
        "a whole number of days, or [low, high] to draw from per prospect, got 'a week'",
    ),
    (
        "an empty wait",
        lambda c: touch(c).update(on_accept=[{"wait_days": None}]),
        "strategies.connect.playbook.0.touches.0.on_accept.0.wait_days",
        "got nothing",
    ),
    (
        "half a prospect",  # it said "greater than or equal to 0", which 2.5 is
        lambda c: seg(c).update(size=2.5),
        "segments.mid.size",
        "a whole number of prospects, or 'unlimited' (got 2.5)",
    ),
    (
        "a list size in words",
        lambda c: seg(c).update(size="lots"),
        "segments.mid.size",
        "a whole number of prospects, or 'unlimited' (got 'lots')",
    ),
    (
        "a list of 1e30 prospects",
        lambda c: seg(c).update(size=10**30),
        "segments.mid.size",
        "less than or equal to 1000000000, or 'unlimited'",
    ),
    (
        "a pace of 1e20",
        lambda c: c["strategies"]["connect"]["daily_pace"].update(connect=10**20),
        "strategies.connect.daily_pace.connect",
        "less than or equal to 1000000",
    ),
    (
        "a cooldown of 1e20 days",
        lambda c: c.update(invitations={"reinvite_cooldown_days": 10**20}),
        "invitations.reinvite_cooldown_days",
        "less than or equal to 1000",
    ),
    (
        "a weekly limit drawn up to 1e20",
        lambda c: c.update(
            invitations={"weekly_limit": {"dist": "uniform", "low": 5, "high": 1e20}}
        ),
        "invitations.weekly_limit.high",
        "outside the range of a count",
    ),
    (
        "a lognormal spread of 1e300",
        lambda c: seg(c).update(
            delays={"reply": {"dist": "lognormal", "median": 2, "sigma": 1e300}}
        ),
        "segments.mid.delays.reply.sigma",
        "less than or equal to 1000",
    ),
    (
        "a restriction intercept of 1e300",
        lambda c: c.update(invitations={"restriction": {"intercept": -1e300}}),
        "invitations.restriction.intercept",
        "greater than or equal to -1000",
    ),
    ("a seed of 1e30", lambda c: c.update(seed=10**30), "seed", "less than 9223372036854775808"),
    (
        "true for a horizon",
        lambda c: c.update(horizon_months=True),
        "horizon_months",
        "expected a number, got true/false",
    ),
    (
        "false for monthly arrivals",
        lambda c: seg(c).update(new_per_month=False),
        "segments.mid.new_per_month",
        "expected a number, got true/false",
    ),
    (
        "true among reply rates",
        lambda c: seg(c)["rates"].update(reply_after_accept=[0.1, True]),
        "segments.mid.rates.reply_after_accept.1",
        "expected a number, got true/false",
    ),
    (
        "true for a wait",
        lambda c: touch(c).update(on_accept=[{"wait_days": True}]),
        "strategies.connect.playbook.0.touches.0.on_accept.0.wait_days",
        "expected a number, got true/false",
    ),
    # names are labels: printable and bounded (class 3; in paths, see test_config_files)
    (
        "a config name with a NUL",
        lambda c: c.update(name="camp\x00aign"),
        "name",
        "holds a control character ('\\x00')",
    ),
    (
        "a config name of 5,000 characters",
        lambda c: c.update(name="x" * 5000),
        "name",
        "has 5000 characters; a name has at most 100",
    ),
    (
        "a strategy name of 5,000 characters",
        lambda c: c["strategies"].update({"s" * 5000: c["strategies"]["connect"]}),
        "strategies",
        "has 5000 characters; a name has at most 100",
    ),
    (
        "a segment name with a line break",
        lambda c: c["segments"].update({"two\nlines": {"size": 5}}),
        "segments",
        "holds a control character ('\\n')",
    ),
    (
        "a touch name with a right-to-left override",
        lambda c: touch(c).update(name="evil\u202etxt.exe"),
        "strategies.connect.playbook.0.touches.0.name",
        "holds a control character ('\\u202e')",
    ),
    (
        "a blank strategy name",
        lambda c: c["strategies"].update({"  ": c["strategies"]["connect"]}),
        "strategies",
        "a name needs at least one visible character",
    ),
    (
        "observations of a rate fixed at a number",
        lambda c: seg(c).update(observed={"inmail": {"sent": 10, "replied": 1}}),
        "segments.mid.observed.inmail",
        "rates.inmail_reply_paid is a fixed number",
    ),
]


def run_cli(tmp_path: Path, capsys, text: str) -> tuple[int, list[str], Path]:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code = main(["run", str(path), "--out", str(tmp_path / "never"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert not (tmp_path / "never").exists()
    assert not any("Traceback" in line for line in err)
    return code, err, path


@pytest.mark.parametrize(("what", "change", "field", "reason"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_config_is_one_line_naming_file_field_and_reason(
    tmp_path, capsys, what, change, field, reason
):
    data = copy.deepcopy(GOOD)
    change(data)
    code, err, path = run_cli(tmp_path, capsys, yaml.safe_dump(data))
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"{path}: {field}: "), err[0]
    assert reason in err[0], err[0]


def test_a_name_yaml_reads_as_a_number_or_a_date_says_to_quote_it(tmp_path, capsys):
    """A cohort named 2026 and a config named by its day: YAML reads a number and a date.
    It said "Input should be a valid string" (and `segments.datetime.date(2026, 2, 14).[key]`
    for a date); now one line per place, as written, saying to quote it."""
    import datetime as dt

    data = copy.deepcopy(GOOD)
    data["name"] = dt.date(2026, 2, 14)
    data["segments"] = {2026: data["segments"]["mid"]}
    entry(data)["segment"] = 2026
    code, err, path = run_cli(tmp_path, capsys, yaml.safe_dump(data))
    assert code == 2
    assert sorted(err) == [
        f'{path}: name: 2026-02-14 reads as a date, not as text: quote it ("2026-02-14")',
        f'{path}: segments.2026: 2026 reads as a number, not as text: quote it ("2026")',
        f"{path}: strategies.connect.playbook.0.segment: 2026 reads as a number, not as text: "
        'quote it ("2026")',
    ]


def test_there_are_at_least_30_kinds_of_mistake():
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the config is empty"),
        ("# only a comment\n", "the config is empty"),
        ("- just\n- a list\n", "expected a mapping"),
        ("segments: {mid: {size: 5}\n", "not valid YAML"),
        ("segments: !!python/object/apply:os.system ['echo owned']\n", "tags that build objects"),
    ],
)
def test_files_that_are_not_a_config_are_refused(tmp_path, capsys, text, reason):
    code, err, path = run_cli(tmp_path, capsys, text)
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"{path}: (top level): ") and reason in err[0]


def test_every_mistake_is_reported_at_once(tmp_path, capsys):
    data = copy.deepcopy(GOOD)
    data["horizon_monts"] = 3
    seg(data)["size"] = -1
    seg(data)["rates"]["accept_with_note"] = 7
    code, err, _ = run_cli(tmp_path, capsys, yaml.safe_dump(data))
    assert code == 2 and len(err) == 3
    assert {line.split(": ")[1] for line in err} == {
        "horizon_monts",
        "segments.mid.size",
        "segments.mid.rates.accept_with_note",
    }


def test_a_missing_file_is_one_line(tmp_path, capsys):
    code = main(["validate", str(tmp_path / "nowhere.yaml")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot read the file" in err[0]


def test_command_line_numbers_are_checked(tmp_path, capsys):
    path = tmp_path / "good.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    for option in (["--runs", "0"], ["--seed", "-3"], ["--workers", "0"]):
        assert main(["run", str(path), *option, "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(option[0])


def test_every_observed_mistake_is_reported_at_once(tmp_path, capsys):
    """Counts out of order, counts half given, InMail replies above sends and fixed or
    spreadless priors, over several segments: each its own line, in one go (class 6)."""
    data = copy.deepcopy(GOOD)
    seg(data)["observed"] = {
        "sent": 100,
        "accepted": 120,
        "replied": 130,
        "inmail": {"sent": 10, "replied": 11},
    }
    data["segments"]["half"] = {"size": 5, "observed": {"sent": 100, "accepted": 20}}
    data["segments"]["flat"] = {
        "size": 5,
        "observed": {"inmail": {"sent": 10, "replied": 2}},
        "rates": {"inmail_reply_paid": {"dist": "uniform", "low": 0.2, "high": 0.2}},
    }
    for command in ("validate", "calibrate"):
        path = tmp_path / "observed.yaml"
        path.write_text(yaml.safe_dump(data))
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert not any("Traceback" in line for line in err)
        found = {line.split(": ")[1] for line in err}
        assert found == {
            "segments.mid.observed.accepted",
            "segments.mid.observed.replied",
            "segments.mid.observed.inmail.replied",
            "segments.mid.observed.sent",
            "segments.mid.observed.inmail",
            "segments.half.observed.replied",
            "segments.half.observed.sent",
            "segments.flat.observed.inmail",
        }, err
        assert len(err) == len(set(err)) == 10, err  # mid: 6 lines (two for replied)
        assert any("no spread (low = high = 0.2)" in line for line in err)


def test_an_observed_mistake_and_a_mistake_elsewhere_are_reported_together(tmp_path, capsys):
    data = copy.deepcopy(GOOD)
    seg(data)["size"] = -1
    seg(data)["rates"]["accept_with_note"] = {"dist": "uniform", "low": 0.2, "high": 0.4}
    seg(data)["rates"]["reply_after_accept"] = [{"dist": "beta", "mean": 0.1, "sd": 0.02}]
    seg(data)["observed"] = {"sent": 10, "accepted": 12, "replied": 1}
    code, err, _ = run_cli(tmp_path, capsys, yaml.safe_dump(data))
    assert code == 2
    assert [line.split(": ")[1] for line in err] == [
        "segments.mid.size",
        "segments.mid.observed.accepted",
    ]
