"""Campaign configs: YAML in, validated typed models out (MODEL.md sections 2 to 7, 9).

A config is one *scenario* (horizon, seats, limits, plans, prospect segments) and one or
more *strategies* (a plan and a playbook each) that run on it with common random
numbers. Every mistake is reported as one line naming the file, the field path and the
reason; :class:`ConfigError` carries all of them at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import unicodedata
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from simulator import config_file
from simulator.plans import BUILTIN_PLANS

# Every number of a config is finite and bounded: a bound is far beyond any real campaign
# but keeps sums and day arithmetic exact in the engine (docs/config.md, "Rules").
#: the longest wait, window, cooldown or expiry: beyond it a horizon would end first
MOST_DAYS = 1000
#: the most prospects, sends or credits per seat in one day, week or month
MOST_PER_SEAT = 1_000_000
#: the most prospects in a list, seats, replications, or observed sends
MOST_COUNT = 10**9
#: the largest amount of money ($) per seat-month, send, hour or meeting
MOST_MONEY = 10**9
#: the largest multiplier of a rate (rates are capped at 1 anyway)
MOST_MULTIPLIER = 1000.0

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0, le=MOST_COUNT)]
PerSeat = Annotated[int, Field(ge=0, le=MOST_PER_SEAT)]
PositiveInt = Annotated[int, Field(ge=1, le=MOST_COUNT)]
Days = Annotated[int, Field(ge=0, le=MOST_DAYS)]
PositiveDays = Annotated[int, Field(ge=1, le=MOST_DAYS)]
Money = Annotated[float, Field(ge=0.0, le=MOST_MONEY)]
NonNegative = Money  # amounts per touch kind, an hourly rate
LogOdds = Annotated[float, Field(ge=-1000.0, le=1000.0)]


#: the longest name of a config, segment, strategy, plan or touch (labels, columns, files)
MOST_NAME = 100
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def shown(text: str, most: int = 40) -> str:
    """A name as an error line shows it: quoted, control characters escaped, cut short."""
    cut = text if len(text) <= most else text[:most] + "..."
    return repr(cut) if cut.isprintable() else ascii(cut)


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a config, segment, strategy, plan or touch (None if it can).

    Names are labels in tables and charts and parts of column names; a name used in a
    path is made a safe file name separately (``simulator.folders.safe_component``)."""
    if not name.strip():
        return "a name needs at least one visible character"
    if len(name) > MOST_NAME:
        return f"{shown(name)} has {len(name)} characters; a name has at most {MOST_NAME}"
    for char in name:
        if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS:
            return f"{shown(name)} holds a control character ({char!a}); use letters"
    return None


def _check_name(name: str) -> str:
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


Name = Annotated[str, AfterValidator(_check_name)]


def _numeric(annotation: Any) -> bool:
    """Whether a field takes numbers and not true/false (int, float, or lists of them)."""
    leaves: set[Any] = set()

    def collect(node: Any) -> None:
        args = get_args(node)
        if get_origin(node) is Literal:
            leaves.add(str)
        elif args:
            for arg in args:
                collect(arg)
        else:
            leaves.add(node)

    collect(annotation)
    return bool(leaves & {int, float}) and not leaves & {bool, str}


def _truth_value_at(value: Any) -> str | None:
    """Where a true/false sits in a value ("" for the value itself, ".1" in a list)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, bool):
                return f".{index}"
    return None


class Model(BaseModel):
    """Base for config models: unknown keys are errors (they are usually typos), numbers
    are finite (no NaN, no infinity), and true/false is not a number (YAML would read
    `horizon_months: true` as 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_truth_values_for_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        problems = []
        for key, value in data.items():
            field = cls.model_fields.get(key) if isinstance(key, str) else None
            if field is None or not _numeric(field.annotation):
                continue
            where = _truth_value_at(value)
            if where is not None:
                problems.append(f"{key}{where}: expected a number, got true/false")
        if problems:
            raise ValueError("\n".join(problems))
        return data


# --- uncertain parameters (section 8) ------------------------------------------------

_PARAMETERS = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "beta": ("mean", "sd", "alpha", "beta"),
}


class Distribution(Model):
    """A parameter drawn once per replication: uniform, triangular or Beta.

    Subclasses set the range the parameter may take (`lowest`, `highest`)."""

    lowest: ClassVar[float] = 0.0
    highest: ClassVar[float] = 1.0
    what: ClassVar[str] = "a probability"

    dist: Literal["uniform", "triangular", "beta"]
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    alpha: Annotated[float, Field(gt=0.0, le=MOST_COUNT)] | None = None
    beta: Annotated[float, Field(gt=0.0, le=MOST_COUNT)] | None = None

    @model_validator(mode="after")
    def _well_formed(self) -> Distribution:
        problems = self._problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _problems(self) -> list[str]:
        names = ("low", "mode", "high", "mean", "sd", "alpha", "beta")
        given = {k for k in names if getattr(self, k) is not None}
        foreign = sorted(given - set(_PARAMETERS[self.dist]))
        if foreign:
            return [f"{k}: not a parameter of a {self.dist} distribution" for k in foreign]
        if self.dist == "beta":
            return self._beta_problems(given)
        needed = _PARAMETERS[self.dist]
        missing = [k for k in needed if k not in given]
        if missing:
            return [f"{k}: a {self.dist} distribution needs {', '.join(needed)}" for k in missing]
        problems = []
        for k in needed:
            value = getattr(self, k)
            if not self.lowest <= value <= self.highest:
                problems.append(f"{k}: {value} is outside {self._range()}")
            elif isinstance(self, DaysDistribution) and value <= 0:
                problems.append(f"{k}: must be above 0, got {value}")
        if problems:
            return problems
        low, high = self.low, self.high
        assert low is not None and high is not None
        if low > high:
            return [f"low: low ({low}) must not exceed high ({high})"]
        if self.dist == "triangular":
            assert self.mode is not None
            if not low <= self.mode <= high:
                return [f"mode: {self.mode} is outside low..high ({low}..{high})"]
            if low == high:
                return [f"high: a triangular distribution needs low < high, both are {low}"]
        return []

    def _beta_problems(self, given: set[str]) -> list[str]:
        if self.highest != 1.0:
            return [f"dist: a Beta distribution lies in 0..1; {self.what} needs another"]
        if given == {"alpha", "beta"}:
            return []
        if given != {"mean", "sd"}:
            return ["dist: a beta distribution needs mean and sd, or alpha and beta"]
        mean, sd = self.mean, self.sd
        assert mean is not None and sd is not None
        if not 0.0 < mean < 1.0:
            return [f"mean: a Beta's mean must lie strictly between 0 and 1, got {mean}"]
        if sd <= 0.0:
            return [f"sd: must be above 0, got {sd}"]
        most = math.sqrt(mean * (1.0 - mean))
        if sd >= most:
            return [
                f"sd: {sd} is too large for a Beta with mean {mean} "
                f"(it must be below sqrt(mean * (1 - mean)) = {most:.4g})"
            ]
        return []

    def _range(self) -> str:
        top = "" if math.isinf(self.highest) else f"{self.highest:g}"
        return f"the range of {self.what} ({self.lowest:g}..{top})"

    def shape(self) -> tuple[float, float]:
        """A Beta's (alpha, beta), from alpha and beta or from mean and sd."""
        if self.alpha is not None and self.beta is not None:
            return self.alpha, self.beta
        assert self.mean is not None and self.sd is not None
        size = self.mean * (1.0 - self.mean) / self.sd**2 - 1.0
        return self.mean * size, (1.0 - self.mean) * size


class ProbabilityDistribution(Distribution):
    """An uncertain probability (every draw lies in 0..1)."""


class MultiplierDistribution(Distribution):
    """An uncertain multiplier of a rate (0 or more)."""

    highest: ClassVar[float] = MOST_MULTIPLIER
    what: ClassVar[str] = "a multiplier"


class DaysDistribution(Distribution):
    """An uncertain positive number of days (a delay's median, its log-scale spread)."""

    highest: ClassVar[float] = MOST_DAYS
    what: ClassVar[str] = "a positive number"


class CountDistribution(Distribution):
    """An uncertain whole number (a draw is rounded to the nearest whole number)."""

    highest: ClassVar[float] = MOST_PER_SEAT
    what: ClassVar[str] = "a count"


def _number_or_distribution(value: Any) -> str:
    return "distribution" if isinstance(value, dict | Distribution) else "number"


def _uncertain(number: Any, distribution: type[Distribution]) -> Any:
    """A field that takes a number, or a distribution drawn once per replication."""
    return Annotated[
        Annotated[number, Tag("number")] | Annotated[distribution, Tag("distribution")],
        Discriminator(_number_or_distribution),
    ]


UncertainProbability = _uncertain(Annotated[float, Field(ge=0.0, le=1.0)], ProbabilityDistribution)
UncertainMultiplier = _uncertain(
    Annotated[float, Field(ge=0.0, le=MOST_MULTIPLIER)], MultiplierDistribution
)
UncertainCount = _uncertain(Annotated[int, Field(ge=0, le=MOST_PER_SEAT)], CountDistribution)
UncertainDays = _uncertain(Annotated[float, Field(gt=0.0, le=MOST_DAYS)], DaysDistribution)


# --- plans (section 3) ---------------------------------------------------------------


class Plan(Model):
    """A LinkedIn plan, per seat."""

    price_per_month: Money
    credits_per_month: PerSeat
    credits_cap: PerSeat
    notes_per_month: PerSeat | None = None  # None: unlimited personalised notes
    note_length: Annotated[int, Field(ge=1, le=100_000)] = 300
    followup_inmail: Literal["none", "after_response", "yes"] = "after_response"
    open_profile_messages: bool = True

    @field_validator("followup_inmail", mode="before")
    @classmethod
    def _yes_or_no(cls, value: Any) -> Any:
        """`yes`/`true` and `no`/`false`, as an analyst writes them, mean yes and none."""
        if value is True:
            return "yes"
        if value is False or value == "no":
            return "none"
        return value


# --- prospects (section 4) -----------------------------------------------------------


class LognormalDelay(Model):
    """Discretised lognormal: day k takes the mass of (k-1, k], truncated at the window."""

    dist: Literal["lognormal"]
    median: UncertainDays  # a number, or a distribution drawn once per replication
    sigma: UncertainDays = 1.0


class FixedDelay(Model):
    """Every outcome arrives exactly `days` after the touch."""

    dist: Literal["fixed"]
    days: PositiveDays


class PmfDelay(Model):
    """Explicit probabilities for a delay of 1, 2, 3, ... days (renormalised in the window)."""

    dist: Literal["pmf"]
    probs: Annotated[
        list[Annotated[float, Field(ge=0.0, le=MOST_COUNT)]],
        Field(min_length=1, max_length=MOST_DAYS),
    ]

    @field_validator("probs")
    @classmethod
    def _some_mass(cls, probs: list[float]) -> list[float]:
        if sum(probs) <= 0:
            raise ValueError("at least one probability must be positive")
        return probs


Delay = Annotated[LognormalDelay | FixedDelay | PmfDelay, Field(discriminator="dist")]


def _lognormal(median: float) -> LognormalDelay:
    return LognormalDelay(dist="lognormal", median=median, sigma=1.0)


class Delays(Model):
    """Days from a touch to its outcome; per-touch reply delays default to `reply`."""

    accept: Delay = Field(default_factory=lambda: _lognormal(2.0))
    reply: Delay = Field(default_factory=lambda: _lognormal(1.0))
    message_reply: Delay | None = None
    inmail_reply: Delay | None = None
    followup_reply: Delay | None = None
    email_reply: Delay | None = None
    whatsapp_reply: Delay | None = None


class Rates(Model):
    """Per-touch probabilities of one segment (defaults: the seed guide's ranges).

    Each may be a number or a distribution drawn once per replication (section 8)."""

    accept_with_note: UncertainProbability = 0.35
    accept_without_note: UncertainProbability = 0.25
    reply_after_accept: Annotated[list[UncertainProbability], Field(min_length=1)] = Field(
        default_factory=lambda: [0.15, 0.06]
    )
    inmail_reply_paid: UncertainProbability = 0.175
    inmail_reply_open: UncertainProbability = 0.10
    inmail_followup_reply: UncertainProbability = 0.05
    accept_after_inmail_multiplier: UncertainMultiplier = 1.0
    reinvite_multiplier: UncertainMultiplier = 0.5
    email_reply: UncertainProbability = 0.05
    whatsapp_reply: UncertainProbability = 0.10
    engage_accept_multiplier: UncertainMultiplier = 1.0
    engage_reply_multiplier: UncertainMultiplier = 1.0
    positive_share: UncertainProbability = 0.5
    meeting_share: UncertainProbability = 0.4


class ObservedInMail(Model):
    """A team's own InMail results: paid InMails sent and replies to them."""

    sent: Count
    replied: Count

    @model_validator(mode="after")
    def _in_order(self) -> ObservedInMail:
        problems = _inmail_problems(self.sent, self.replied)
        if problems:
            raise ValueError("\n".join(problems))
        return self


# The observed checks are plain functions of the counts and priors, so that a config's
# raw mapping can be checked with them too: every observed mistake is reported at once,
# even where another mistake stops a model's own check (``parse_config``).


def _counts_problems(sent: Any, accepted: Any, replied: Any) -> list[str]:
    """sent, accepted and replied: given together, each at most the one before."""
    given = {"sent": sent, "accepted": accepted, "replied": replied}
    if all(value is None for value in given.values()):
        return []
    missing = [key for key, value in given.items() if value is None]
    if missing:
        return [f"{key}: give sent, accepted and replied together" for key in missing]
    problems = []
    if accepted > sent:
        problems.append(f"accepted: {accepted} accepted but only {sent} sent")
    if replied > accepted:
        problems.append(f"replied: {replied} replied but only {accepted} accepted")
    return problems


def _inmail_problems(sent: Any, replied: Any) -> list[str]:
    return [f"replied: {replied} replied but only {sent} sent"] if replied > sent else []


def _prior_problem(count: str, rate: str, prior: Any) -> str | None:
    """Observations update a prior: the rate must be a distribution with some spread."""
    if isinstance(prior, Distribution | dict):
        get = prior.get if isinstance(prior, dict) else lambda key: getattr(prior, key)
        if get("dist") == "uniform" and get("low") is not None and get("low") == get("high"):
            return (
                f"observed.{count}: rates.{rate} is a uniform prior with no spread (low = "
                f"high = {get('low')}); observations cannot narrow it: give a range"
            )
        return None
    return (
        f"observed.{count}: rates.{rate} is a fixed number ({float(prior)}); give it a "
        "distribution (the prior these counts update)"
    )


def _informed(observed: Any, rates: Any) -> list[tuple[str, str, Any]]:
    """(count, rate, prior) for each rate the observations inform, from models or from a
    raw mapping (a rate left out is its default, a fixed number)."""

    def rate(name: str) -> Any:
        if isinstance(rates, Rates):
            values = rates.reply_after_accept if name == "reply_after_accept" else None
            return values[0] if values is not None else getattr(rates, name)
        default = Rates.model_fields[name].get_default(call_default_factory=True)
        value = rates.get(name, default) if isinstance(rates, dict) else default
        if name == "reply_after_accept":
            return value[0] if isinstance(value, list) and value else None
        return value

    get = observed.get if isinstance(observed, dict) else lambda key: getattr(observed, key)
    informed = []
    if get("sent") is not None:
        informed += [
            ("sent", "accept_with_note", rate("accept_with_note")),
            ("replied", "reply_after_accept.0", rate("reply_after_accept")),
        ]
    if get("inmail") is not None:
        informed.append(("inmail", "inmail_reply_paid", rate("inmail_reply_paid")))
    return informed


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def raw_observed_problems(segment: Any) -> list[str]:
    """Every observed mistake of a segment's raw mapping (paths below the segment)."""
    if not isinstance(segment, dict) or not isinstance(segment.get("observed"), dict):
        return []
    observed = segment["observed"]
    problems = []
    counts = [observed.get(key) for key in ("sent", "accepted", "replied")]
    if all(c is None or _whole(c) for c in counts):
        problems += [f"observed.{p}" for p in _counts_problems(*counts)]
    inmail = observed.get("inmail")
    if isinstance(inmail, dict) and _whole(inmail.get("sent")) and _whole(inmail.get("replied")):
        problems += [
            f"observed.inmail.{p}" for p in _inmail_problems(inmail["sent"], inmail["replied"])
        ]
    for count, rate, prior in _informed(observed, segment.get("rates")):
        if isinstance(prior, dict) or (
            isinstance(prior, int | float) and not isinstance(prior, bool)
        ):
            problem = _prior_problem(count, rate, prior)
            if problem:
                problems.append(problem)
    return problems


class Observed(Model):
    """A team's own past results for a segment, to update the rates' priors (section 8).

    `sent`, `accepted`, `replied`: connection requests with a note, their acceptances,
    and replies to the first message after acceptance. `inmail`: paid InMails."""

    sent: Count | None = None
    accepted: Count | None = None
    replied: Count | None = None
    inmail: ObservedInMail | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Observed:
        problems = _counts_problems(self.sent, self.accepted, self.replied)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _list_size(value: Any) -> int | str:
    """A whole number of prospects, or "unlimited" (one message for both)."""
    if value == "unlimited" or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MOST_COUNT
    ):
        return value
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MOST_COUNT:
        return int(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > MOST_COUNT:
        raise ValueError(
            f"Input should be less than or equal to {MOST_COUNT}, or 'unlimited' (got {value!r})"
        )
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise ValueError(
            f"Input should be greater than or equal to 0, or 'unlimited' (got {value!r})"
        )
    raise ValueError(f"Input should be a whole number of prospects, or 'unlimited' (got {value!r})")


ListSize = Annotated[int | Literal["unlimited"], PlainValidator(_list_size)]


class Segment(Model):
    """A list of prospects that share rates."""

    size: ListSize  # "unlimited": the list never runs out
    new_per_month: Count = 0
    open_profile_share: Probability = 0.0
    email_share: Probability = 0.0  # prospects with a known email address
    whatsapp_share: Probability = 0.0  # prospects with a known WhatsApp number
    rates: Rates = Field(default_factory=Rates)
    delays: Delays = Field(default_factory=Delays)
    observed: Observed | None = None

    @property
    def unlimited(self) -> bool:
        return self.size == "unlimited"

    def length(self, months: int) -> int | None:
        """Prospects on the list over `months` months (None: unlimited)."""
        if self.size == "unlimited":
            return None
        return self.size + self.new_per_month * max(0, months - 1)

    @model_validator(mode="after")
    def _observed_rates_have_priors(self) -> Segment:
        """Observations update a prior: the rates they inform must be distributions."""
        if self.observed is None:
            return self
        informed = _informed(self.observed, self.rates)
        problems = [p for c, r, prior in informed if (p := _prior_problem(c, r, prior))]
        if problems:
            raise ValueError("\n".join(problems))
        return self


# --- limits (sections 5 to 7) --------------------------------------------------------


class Restriction(Model):
    """Daily restriction risk per seat, a logistic function (LinkedIn publishes none)."""

    enabled: bool = False
    intercept: LogOdds = -9.0
    per_pending: LogOdds = 0.005
    per_low_acceptance: LogOdds = 4.0
    restriction_days: PositiveDays = 7


class Invitations(Model):
    """The rolling weekly invitation limit and what scales it (section 7)."""

    weekly_limit: UncertainCount = 100
    invite_window_days: Annotated[int, Field(ge=1, le=365)] = 21
    reinvite_cooldown_days: Days = 21
    health_window_days: PositiveDays = 28
    good_acceptance: Probability = 0.30
    poor_acceptance: Probability = 0.10
    floor_factor: Probability = 0.5
    warmup_weeks: Annotated[int, Field(ge=0, le=MOST_DAYS // 7)] = 0
    warmup_start_share: Probability = 0.5
    max_pending: PerSeat | None = None
    restriction: Restriction = Field(default_factory=Restriction)

    @model_validator(mode="after")
    def _ordered_health_thresholds(self) -> Invitations:
        if self.poor_acceptance >= self.good_acceptance:
            raise ValueError(
                f"poor_acceptance: must be below good_acceptance ({self.good_acceptance}), "
                f"got {self.poor_acceptance}"
            )
        return self


class InMail(Model):
    """Credit and InMail rules shared by every plan (section 6)."""

    refunds: bool = True
    refund_window_days: Days = 90
    credit_expiry_days: PositiveDays = 90
    open_profile_monthly_cap: PerSeat = 800


# --- playbooks (section 9) -----------------------------------------------------------


def _as_wait(value: Any) -> Any:
    """Accept `5` or `[5, 7]` (a range drawn uniformly per prospect) for a wait; anything
    else is one line saying so (pydantic's own would ask for "a valid tuple", or give two
    lines for `-1`, one for each end)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"a wait of at least 0 days, got {value}")
        return (value, value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return value
    given = "nothing" if value is None else repr(value)
    raise ValueError(
        f"a whole number of days, or [low, high] to draw from per prospect, got {given}"
    )


def _check_wait(value: Wait) -> Wait:
    if value[0] > value[1]:
        raise ValueError(f"low ({value[0]}) must not exceed high ({value[1]})")
    if value[1] > MOST_DAYS:
        raise ValueError(f"a wait of at most {MOST_DAYS} days, got {value[1]}")
    return value


#: a wait in days: `5`, or `[low, high]` drawn uniformly per prospect, low <= high
_WaitEnd = Annotated[int, Field(ge=0)]  # bounded as a whole by _check_wait: one line
Wait = Annotated[tuple[_WaitEnd, _WaitEnd], BeforeValidator(_as_wait), AfterValidator(_check_wait)]


class MessageStep(Model):
    """A message after acceptance; waits count from acceptance, then from the last message."""

    wait_days: Wait = (0, 0)


class _Touch(Model):
    """A touch of a route: sent when the previous one has had no reply for a while."""

    name: Name | None = None  # lets a `fallback` point at this touch
    if_no_reply_after_days: Wait = (0, 0)


class ConnectTouch(_Touch):
    """A connection request; on acceptance, its message sequence runs."""

    kind: Literal["connect"]
    note: bool = True
    reinvite: bool = False
    on_accept: list[MessageStep] = Field(default_factory=lambda: [MessageStep()])


class InMailTouch(_Touch):
    """An InMail: a credit, or free to an Open Profile."""

    kind: Literal["inmail"]


class FollowupTouch(_Touch):
    """The single follow-up InMail after an unanswered InMail (plan rules apply)."""

    kind: Literal["inmail_followup"]
    if_no_reply_after_days: Wait = (5, 7)


class EmailTouch(_Touch):
    """An email, to prospects with a known address (the segment's `email_share`)."""

    kind: Literal["email"]
    fallback: str | None = None  # the touch to go on with when there is no address


class WhatsAppTouch(_Touch):
    """A WhatsApp message, to prospects with a known number (`whatsapp_share`)."""

    kind: Literal["whatsapp"]
    fallback: str | None = None


class EngageTouch(_Touch):
    """Engaging with the prospect's posts: no reply, a lift on later touches' rates."""

    kind: Literal["engage"]


Touch = Annotated[
    ConnectTouch | InMailTouch | FollowupTouch | EmailTouch | WhatsAppTouch | EngageTouch,
    Field(discriminator="kind"),
]
TOUCH_KINDS: tuple[str, ...] = (
    "connect",
    "message",
    "inmail",
    "inmail_followup",
    "email",
    "whatsapp",
    "engage",
)


class PlaybookEntry(Model):
    """One segment's programme: which touches, in which order, how many starts a day."""

    segment: str
    new_per_day: PerSeat | None = None
    touches: Annotated[list[Touch], Field(min_length=1)]
    open_profile_touches: Annotated[list[Touch], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _routes_hold_together(self) -> PlaybookEntry:
        problems: list[str] = []
        for name in ("touches", "open_profile_touches"):
            problems += _route_problems(name, getattr(self, name) or [])
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _route_problems(where: str, route: list) -> list[str]:
    """Follow-ups after InMails; one request and one InMail per route; names unique;
    fallbacks name a later touch (no loop).

    A route goes on past a `connect` only when it is withdrawn, so a second `connect`
    would ask the same prospect again at once: MODEL.md section 5 lets a withdrawn request
    block a new one for `reinvite_cooldown_days` and allows one re-invitation, at
    `accept_without_note * reinvite_multiplier`, which is what `reinvite: true` sends.
    Likewise a route goes on past an InMail only while it is unanswered, and section 5
    allows one more InMail then: the follow-up (Sales Navigator only, at
    `inmail_followup_reply`), which is what `inmail_followup` sends."""
    problems = []
    names: dict[str, int] = {}
    first_request: int | None = None
    first_inmail: int | None = None
    for i, touch in enumerate(route):
        if touch.kind == "inmail_followup" and (i == 0 or route[i - 1].kind != "inmail"):
            problems.append(f"{where}.{i}.kind: inmail_followup must follow an inmail")
        if touch.kind == "inmail":
            if first_inmail is not None:
                problems.append(
                    f"{where}.{i}.kind: a second inmail in one route messages the prospect of "
                    f"touch {first_inmail} again while it is unanswered; a route holds one "
                    "InMail (an inmail_followup after it sends the one follow-up allowed)"
                )
            else:
                first_inmail = i
        if touch.kind == "connect":
            if first_request is not None:
                problems.append(
                    f"{where}.{i}.kind: a second connect in one route asks the prospect of "
                    f"touch {first_request} again as soon as it is withdrawn; a route holds "
                    f"one request (give touch {first_request} reinvite: true to ask once more "
                    "after the cooldown)"
                )
            else:
                first_request = i
        if touch.name is not None:
            if touch.name in names:
                problems.append(
                    f"{where}.{i}.name: {touch.name!r} already names touch {names[touch.name]}"
                )
            names.setdefault(touch.name, i)
    for i, touch in enumerate(route):
        target = getattr(touch, "fallback", None)
        if target is None:
            continue
        if target not in names:
            known = ", ".join(repr(n) for n in names) or "none"
            problems.append(
                f"{where}.{i}.fallback: no touch named {target!r} in this route (named: {known})"
            )
        elif names[target] <= i:
            j = names[target]
            path = " -> ".join(f"{k} ({route[k].kind})" for k in [i, *range(j, i + 1)])
            problems.append(
                f"{where}.{i}.fallback: a fallback loop ({path}); "
                "a fallback must name a later touch"
            )
    return problems


class Pace(Model):
    """At most this many touches of a kind per seat per day (None: no pace)."""

    connect: PerSeat | None = None
    message: PerSeat | None = None
    inmail: PerSeat | None = None  # InMails and follow-ups
    email: PerSeat | None = None  # email attempts (a send, or a missing address found)
    whatsapp: PerSeat | None = None
    engage: PerSeat | None = None


class TouchAmounts(Model):
    """An amount per touch kind (minutes of work, or money per send); 0 by default."""

    connect: NonNegative = 0.0
    message: NonNegative = 0.0
    inmail: NonNegative = 0.0
    inmail_followup: NonNegative = 0.0
    email: NonNegative = 0.0
    whatsapp: NonNegative = 0.0
    engage: NonNegative = 0.0


class Minutes(TouchAmounts):
    """Minutes of work per touch kind (at most a day's work each)."""

    connect: Annotated[float, Field(ge=0.0, le=1440.0)] = 0.0
    message: Annotated[float, Field(ge=0.0, le=1440.0)] = 0.0
    inmail: Annotated[float, Field(ge=0.0, le=1440.0)] = 0.0
    inmail_followup: Annotated[float, Field(ge=0.0, le=1440.0)] = 0.0
    email: Annotated[float, Field(ge=0.0, le=1440.0)] = 0.0
    whatsapp: Annotated[float, Field(ge=0.0, le=1440.0)] = 0.0
    engage: Annotated[float, Field(ge=0.0, le=1440.0)] = 0.0


class Costs(Model):
    """What a campaign costs beyond plan fees (MODEL.md section 11): sends and labour."""

    per_send: TouchAmounts = Field(default_factory=TouchAmounts)
    minutes_per_touch: Minutes = Field(default_factory=lambda: Minutes())
    hourly_rate: NonNegative = 0.0


class Strategy(Model):
    """A plan and a playbook, run on the config's scenario."""

    plan: str
    daily_pace: Pace = Field(default_factory=Pace)
    playbook: Annotated[list[PlaybookEntry], Field(min_length=1)]


# --- the whole config ----------------------------------------------------------------

#: what "best" means: the cost of one reply, one positive reply or one meeting
#: (pooled over replications; simulator.verdict compares strategies on it)
Objective = Literal["cost_per_reply", "cost_per_positive_reply", "cost_per_meeting"]
OBJECTIVES: tuple[str, ...] = get_args(Objective)


class Config(Model):
    """A scenario and the strategies that run on it."""

    name: Name = "campaign"
    horizon_months: Annotated[int, Field(ge=1, le=1000)] = 12  # days fit the engine's int16
    replications: PositiveInt = 10_000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    accounts: Annotated[int, Field(ge=1, le=MOST_PER_SEAT)] = 1
    response_window_days: Annotated[int, Field(ge=1, le=365)] = 30
    invitations: Invitations = Field(default_factory=Invitations)
    inmail: InMail = Field(default_factory=InMail)
    costs: Costs = Field(default_factory=Costs)
    # a meeting is what outreach is bought for: a reply may be a "no" (docs/config.md)
    objective: Objective = "cost_per_meeting"
    value_per_meeting: NonNegative | None = None  # $; adds expected net benefit
    plans: dict[str, Plan] = Field(default_factory=dict)
    segments: Annotated[dict[str, Segment], Field(min_length=1)]
    strategies: Annotated[dict[str, Strategy], Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _names_are_labels(cls, data: Any) -> Any:
        """Segment, strategy and plan names: printable, at most MOST_NAME characters."""
        if not isinstance(data, dict):
            return data
        problems = []
        for section in ("segments", "strategies", "plans"):
            named = data.get(section)
            if not isinstance(named, dict):
                continue
            for key in named:
                problem = name_problem(key) if isinstance(key, str) else None
                if problem:
                    problems.append(f"{section}: {problem}")
        if problems:
            raise ValueError("\n".join(problems))
        return data

    @model_validator(mode="before")
    @classmethod
    def _merge_builtin_plans(cls, data: Any) -> Any:
        """Built-in plans are always there; a config overrides any of their fields."""
        if not isinstance(data, dict):
            return data
        plans = data.get("plans") or {}
        if not isinstance(plans, dict):
            return data
        merged: dict[str, Any] = {name: dict(fields) for name, fields in BUILTIN_PLANS.items()}
        for name, fields in plans.items():
            if isinstance(fields, dict) and name in merged:
                merged[name] = {**merged[name], **fields}
            else:
                merged[name] = fields
        return {**data, "plans": merged}

    @model_validator(mode="after")
    def _references_exist(self) -> Config:
        problems: list[str] = []
        for sname, strategy in self.strategies.items():
            if strategy.plan not in self.plans:
                problems.append(
                    f"strategies.{sname}.plan: unknown plan {strategy.plan!r} "
                    f"(known: {', '.join(sorted(self.plans))})"
                )
            seen: set[str] = set()
            for i, entry in enumerate(strategy.playbook):
                where = f"strategies.{sname}.playbook.{i}.segment"
                if entry.segment not in self.segments:
                    problems.append(
                        f"{where}: unknown segment {entry.segment!r} "
                        f"(known: {', '.join(sorted(self.segments))})"
                    )
                    continue
                if entry.segment in seen:
                    problems.append(f"{where}: segment {entry.segment!r} listed twice")
                seen.add(entry.segment)
                n_rates = len(self.segments[entry.segment].rates.reply_after_accept)
                for route in ("touches", "open_profile_touches"):
                    for j, touch in enumerate(getattr(entry, route) or []):
                        if touch.kind == "connect" and len(touch.on_accept) > n_rates:
                            problems.append(
                                f"strategies.{sname}.playbook.{i}.{route}.{j}.on_accept: "
                                f"{len(touch.on_accept)} messages but segment "
                                f"{entry.segment!r} has {n_rates} reply_after_accept rates"
                            )
        problems += self._routes_reach_someone()
        problems += self._delays_fit_their_windows()
        problems += self._unlimited_lists_are_paced()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _unlimited_lists_are_paced(self) -> list[str]:
        """An unlimited list needs a daily bound on its starts: `new_per_day`, or a
        daily_pace for the first touch of each of its routes."""
        problems = []
        for sname, strategy in self.strategies.items():
            for i, entry in enumerate(strategy.playbook):
                segment = self.segments.get(entry.segment)
                if segment is None or not segment.unlimited or entry.new_per_day is not None:
                    continue
                unpaced = sorted(
                    {
                        touches[0].kind
                        for touches in (entry.touches, entry.open_profile_touches)
                        if touches and getattr(strategy.daily_pace, touches[0].kind) is None
                    }
                )
                if unpaced:
                    problems.append(
                        f"strategies.{sname}.playbook.{i}.new_per_day: segment "
                        f"{entry.segment!r} is unlimited; give new_per_day or a daily_pace "
                        f"for {', '.join(unpaced)} (the first touch), or the run would start "
                        "the whole list"
                    )
        return problems

    def _routes_reach_someone(self) -> list[str]:
        """A route must hold a touch that can get a reply: engaging alone gets none, a
        request needs a message on acceptance, email and WhatsApp need addresses."""
        problems = []
        for sname, strategy in self.strategies.items():
            for i, entry in enumerate(strategy.playbook):
                segment = self.segments.get(entry.segment)
                if segment is None:
                    continue
                for route in ("touches", "open_profile_touches"):
                    touches = getattr(entry, route)
                    if touches is None:
                        continue
                    why = [_why_no_reply(t, entry.segment, segment) for t in touches]
                    if all(why):
                        reasons = "; ".join(dict.fromkeys(why))
                        problems.append(
                            f"strategies.{sname}.playbook.{i}.{route}: no touch can get a "
                            f"reply ({reasons})"
                        )
        return problems

    def _delays_fit_their_windows(self) -> list[str]:
        """A delay distribution with no mass inside its window could never resolve."""
        problems = []
        for name, segment in self.segments.items():
            for field, window in (
                ("accept", self.invitations.invite_window_days),
                ("reply", self.response_window_days),
                ("message_reply", self.response_window_days),
                ("inmail_reply", self.response_window_days),
                ("followup_reply", self.response_window_days),
                ("email_reply", self.response_window_days),
                ("whatsapp_reply", self.response_window_days),
            ):
                delay = getattr(segment.delays, field)
                where = f"segments.{name}.delays.{field}"
                if isinstance(delay, FixedDelay) and delay.days > window:
                    problems.append(
                        f"{where}.days: {delay.days} days is beyond the {window}-day window"
                    )
                if isinstance(delay, PmfDelay) and sum(delay.probs[:window]) <= 0:
                    problems.append(f"{where}.probs: no probability within the {window}-day window")
        return problems

    @property
    def horizon_days(self) -> int:
        return 30 * self.horizon_months

    def digest(self) -> str:
        """A stable hash of the resolved config (recorded with every result)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _why_no_reply(touch: Any, name: str, segment: Segment) -> str:
    """Why this touch can never get a reply from the segment ("" when it can)."""
    if touch.kind == "engage":
        return "engage gets no reply"
    if touch.kind == "connect" and not touch.on_accept:
        return "a connect with no on_accept message gets no reply"
    for channel in ("email", "whatsapp"):
        if touch.kind == channel and getattr(segment, f"{channel}_share") == 0:
            return f"{channel} needs segments.{name}.{channel}_share above 0"
    return ""


class ConfigError(Exception):
    """A config that cannot run; `lines` holds one message per mistake."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


_TAGS = {*TOUCH_KINDS, "lognormal", "fixed", "pmf"}
_DELAY_FIELDS = set(Delays.model_fields)
_UNCERTAIN_TAGS = {"number", "distribution"}


def _without_tags(loc: tuple) -> list:
    """Drop the union tags pydantic puts in a location (`touches.0.connect.note`)."""
    out: list = []
    for part in loc:
        if part in _UNCERTAIN_TAGS:
            continue
        after_list_or_delay = out and (isinstance(out[-1], int) or out[-1] in _DELAY_FIELDS)
        if part in _TAGS and after_list_or_delay:
            continue
        out.append(part)
    return out


def loc_part(part: Any) -> str:
    """A part of a field path as written, unless a key is too long or unprintable."""
    text = str(part)
    return text if text.isprintable() and len(text) <= 40 else shown(text)


_KIND = {int: "number", float: "number", dt.date: "date", dt.datetime: "date and time"}


def _typed_by_yaml(item: Any) -> str | None:
    """A name YAML read as a number or a date, as it was written; None otherwise."""
    value = item.get("input")
    if type(value) not in _KIND:
        return None
    return value.isoformat(sep=" ") if type(value) is dt.datetime else str(value)


def _format_validation_error(source: str, error: ValidationError) -> list[str]:
    """One line per error: `file: field.path: reason`.

    A validator that knows a deeper path says `sub.path: reason`; it is appended to the
    location of the model that raised it. Config-wide checks give full paths already.
    """
    top_level = tuple(Config.model_fields)
    lines = []
    for item in error.errors():
        parts = _without_tags(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        written = _typed_by_yaml(item) if item["type"] == "string_type" else None
        if written is not None:  # `segments: {2026: ...}`, `name: 2026-02-14`
            if parts and parts[-1] == "[key]":
                parts = [*parts[:-2], written]
            kind = _KIND[type(item["input"])]
            message = f'{written} reads as a {kind}, not as text: quote it ("{written}")'
        loc = ".".join(loc_part(part) for part in parts)
        for part in message.split("\n"):
            head = part.split(": ", 1)[0]
            has_path = ": " in part and " " not in head
            if has_path and head.split(".")[0] in top_level:
                lines.append(f"{source}: {part}")
            elif has_path and loc:
                lines.append(f"{source}: {loc}.{part}")
            elif loc:
                lines.append(f"{source}: {loc}: {part}")
            else:
                lines.append(f"{source}: (top level): {part}")
    return lines


def parse_config(data: Any, source: str = "<config>") -> Config:
    """Validate a mapping (as read from YAML) into a :class:`Config`."""
    if data is None:
        raise ConfigError([f"{source}: (top level): the config is empty"])
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{source}: (top level): expected a mapping of keys, got {type(data).__name__}"]
        )
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        lines = _format_validation_error(source, error)
    # a mistake elsewhere stops a model's own check: the observed ones, all of them
    segments = data.get("segments")
    for name, segment in segments.items() if isinstance(segments, dict) else ():
        for problem in raw_observed_problems(segment):
            line = f"{source}: segments.{name}.{problem}"
            if line not in lines:
                lines.append(line)
    raise ConfigError(lines)


def read_yaml(path: str | Path, text: str | None = None) -> Any:
    """A YAML file's contents, read safely (``simulator.config_file``): bounded size and
    depth, UTF-8 or a byte-order mark, YAML 1.2 booleans, no key given twice. `text`:
    the file's text as `read_source` read it, so that a file is read once (a pipe such as
    /dev/stdin reads empty the second time, and a file edited during a run would differ)."""
    try:
        if text is not None:
            return config_file.parse_yaml(text, str(path))
        return config_file.read_yaml(path)
    except config_file.ConfigFileError as error:
        raise ConfigError(error.lines) from None


def read_source(path: str | Path) -> str:
    """A config file's text as written (kept beside the results), read as `read_yaml` does."""
    try:
        return config_file.read_text(Path(path))
    except config_file.ConfigFileError as error:
        raise ConfigError(error.lines) from None


def load_config(path: str | Path, text: str | None = None) -> Config:
    """Read and validate a YAML config; the name defaults to the file's stem. `text`: the
    file's text already read (`read_source`), the very text kept beside the results."""
    path = Path(path)
    source = str(path)
    data = read_yaml(path, text)
    if isinstance(data, dict) and "sweep" in data:
        raise ConfigError(
            [f"{source}: sweep: a sweep config runs with `outreach-sim sweep {source}`"]
        )
    if isinstance(data, dict) and "name" not in data:
        data = {"name": path.stem[:MOST_NAME], **data}
    return parse_config(data, source)
