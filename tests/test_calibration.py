"""Calibration from a team's own results (MODEL.md section 8): the conjugate Beta-binomial
update, the `calibrate` command, and runs that draw from the posterior."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import integrate, stats

from simulator import parse_config, run
from simulator.calibration import beta_shape, calibration_table, posterior_config
from simulator.cli import calibration_text, main
from simulator.config import ProbabilityDistribution
from simulator.uncertainty import uncertain_parameters

BASE = {
    "horizon_months": 1,
    "segments": {
        "mid": {
            "size": 300,
            "observed": {"sent": 200, "accepted": 60, "replied": 9},
            "rates": {
                "accept_with_note": {"dist": "uniform", "low": 0.25, "high": 0.45},
                "reply_after_accept": [{"dist": "beta", "mean": 0.15, "sd": 0.03}],
            },
        },
        "vp": {
            "size": 100,
            "observed": {"inmail": {"sent": 80, "replied": 12}},
            "rates": {"inmail_reply_paid": {"dist": "beta", "alpha": 2, "beta": 8}},
        },
    },
    "strategies": {
        "both": {
            "plan": "sales_navigator_core",
            "playbook": [
                {"segment": "mid", "touches": [{"kind": "connect"}]},
                {"segment": "vp", "touches": [{"kind": "inmail"}]},
            ],
        }
    },
}


def table(data: dict) -> pd.DataFrame:
    return calibration_table(parse_config(data)).set_index(["segment", "rate"])


def numerical_posterior(prior, successes: int, trials: int) -> tuple[float, float]:
    """Posterior mean and sd by quadrature of prior density x binomial likelihood."""

    def weight(p: float, power: int = 0) -> float:
        return p**power * prior.pdf(p) * stats.binom.pmf(successes, trials, p)

    lo, hi = prior.support()
    z = integrate.quad(weight, lo, hi, points=[successes / trials])[0]
    m1 = integrate.quad(weight, lo, hi, args=(1,), points=[successes / trials])[0] / z
    m2 = integrate.quad(weight, lo, hi, args=(2,), points=[successes / trials])[0] / z
    return m1, np.sqrt(m2 - m1**2)


def test_the_update_is_the_beta_binomial_closed_form():
    """alpha + successes, beta + failures; checked against Bayes' rule by quadrature."""
    rows = table(BASE)
    inmail = rows.loc[("vp", "inmail_reply_paid")]
    assert (inmail["posterior_alpha"], inmail["posterior_beta"]) == (2 + 12, 8 + 68)
    reply = rows.loc[("mid", "reply_after_accept.0")]
    a, b = ProbabilityDistribution(dist="beta", mean=0.15, sd=0.03).shape()
    assert reply["posterior_alpha"] == pytest.approx(a + 9)
    assert reply["posterior_beta"] == pytest.approx(b + 51)
    for (_, rate), prior, k, n in (
        (("vp", "inmail_reply_paid"), stats.beta(2, 8), 12, 80),
        (("mid", "reply_after_accept.0"), stats.beta(a, b), 9, 60),
    ):
        mean, sd = numerical_posterior(prior, k, n)
        row = rows.loc[("vp" if rate == "inmail_reply_paid" else "mid", rate)]
        posterior = stats.beta(row["posterior_alpha"], row["posterior_beta"])
        assert row["posterior_mean"] == pytest.approx(mean, rel=1e-6)
        assert posterior.std() == pytest.approx(sd, rel=1e-6)
        assert row["posterior_p5"] == pytest.approx(posterior.ppf(0.05))
        assert row["posterior_p95"] == pytest.approx(posterior.ppf(0.95))


def test_a_uniform_prior_is_replaced_by_the_beta_with_its_mean_and_variance():
    assert beta_shape(ProbabilityDistribution(dist="uniform", low=0, high=1)) == pytest.approx(
        (1.0, 1.0)
    )
    prior = ProbabilityDistribution(dist="triangular", low=0.1, mode=0.2, high=0.4)
    matched = stats.beta(*beta_shape(prior))
    rv = stats.triang(c=1 / 3, loc=0.1, scale=0.3)
    assert matched.mean() == pytest.approx(rv.mean()) and matched.var() == pytest.approx(rv.var())


def test_with_no_observations_the_posterior_is_the_prior():
    data = copy.deepcopy(BASE)
    data["segments"]["mid"]["observed"] = {"sent": 0, "accepted": 0, "replied": 0}
    data["segments"]["vp"]["observed"] = {"inmail": {"sent": 0, "replied": 0}}
    rows = table(data)
    reply = rows.loc[("mid", "reply_after_accept.0")]
    assert reply["posterior_mean"] == pytest.approx(0.15)
    assert stats.beta(reply["posterior_alpha"], reply["posterior_beta"]).std() == pytest.approx(
        0.03
    )
    inmail = rows.loc[("vp", "inmail_reply_paid")]
    assert (inmail["posterior_alpha"], inmail["posterior_beta"]) == (2, 8)


def test_observations_narrow_the_interval_toward_the_observed_rate():
    """200 sent, 60 accepted: the Beta matched to uniform 0.25-0.45 weighs as about 67
    requests, so the posterior sd shrinks by about sqrt(67 / 267), to near half."""
    rows = table(BASE)
    accept = rows.loc[("mid", "accept_with_note")]
    prior = stats.uniform(0.25, 0.2)
    width = accept["posterior_p95"] - accept["posterior_p5"]
    assert width < 0.6 * (prior.ppf(0.95) - prior.ppf(0.05))
    assert 0.30 < accept["posterior_mean"] < 0.35  # between the observed 0.30 and the prior 0.35


def test_a_run_draws_from_the_posterior_and_calibrating_twice_changes_nothing():
    config = parse_config(BASE)
    posterior = posterior_config(config)
    assert all(s.observed is None for s in posterior.segments.values())
    assert posterior_config(posterior) == posterior
    results = run(config, replications=2000, seed=1)
    assert results.config == posterior
    rows = table(BASE)
    for (segment, rate), row in rows.iterrows():
        drawn = results.runs[f"param.segments.{segment}.rates.{rate}"]
        beta = stats.beta(row["posterior_alpha"], row["posterior_beta"])
        assert stats.kstest(drawn, beta.cdf).pvalue > 1e-3, rate
    assert set(uncertain_parameters(posterior)) == set(uncertain_parameters(config))


def test_calibrate_prints_and_writes_the_table_and_never_overwrites(tmp_path, capsys):
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(BASE))
    assert main(["calibrate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "accept_with_note" in out and "60 / 200" in out and "90% interval" in out
    # the table is for reading: `run` computes the posterior itself, from observed:
    assert "uses it" not in out and "recomputes the posterior from observed: itself" in out
    written = pd.read_csv(tmp_path / "team.posterior.csv")
    pd.testing.assert_frame_equal(written, calibration_table(parse_config(BASE)), check_dtype=False)
    before = (tmp_path / "team.posterior.csv").read_text()
    assert main(["calibrate", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "team.posterior.csv").read_text() == before
    target = tmp_path / "elsewhere" / "post.csv"
    assert main(["calibrate", str(path), "--out", str(target)]) == 0
    assert target.exists()
    assert main(["calibrate", str(path), "--out", str(target), "--force"]) == 0


def test_calibrate_without_observations_is_refused_and_writes_nothing(tmp_path, capsys):
    """Nothing observed and no --events: one line saying what to add, exit 2."""
    data = copy.deepcopy(BASE)
    for segment in data["segments"].values():
        del segment["observed"]
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["calibrate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{path}: nothing to calibrate")
    assert "add observed: results to a segment" in err[0] and "--events FILE" in err[0]
    assert list(tmp_path.iterdir()) == [path]


def test_the_posterior_table_stays_aligned_with_long_names_and_priors(capsys):
    """A long segment name and a triangular prior widen their columns; no row is pushed
    out of line."""
    data = copy.deepcopy(BASE)
    data["segments"]["enterprise_key_accounts_emea"] = data["segments"].pop("mid")
    data["segments"]["enterprise_key_accounts_emea"]["rates"]["accept_with_note"] = {
        "dist": "triangular", "low": 0.25, "mode": 0.25, "high": 0.45,
    }  # fmt: skip
    data["strategies"]["both"]["playbook"][0]["segment"] = "enterprise_key_accounts_emea"
    lines = calibration_text(calibration_table(parse_config(data))).splitlines()
    assert any("triangular 0.25/0.25/0.45" in line for line in lines)
    header = [m.span() for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    for line in lines[2:]:
        cells = [m.span() for m in re.finditer(r"\S+(?: \S+)*", line)]
        assert len(cells) == len(header) == 6, line
        for i, (cell, head) in enumerate(zip(cells, header, strict=True)):
            assert cell[0] == head[0] if i in (0, 1, 2, 5) else cell[1] == head[1], (line, i)
