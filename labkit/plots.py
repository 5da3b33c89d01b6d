"""Figures for the notebooks, and the live measurements behind them.

``algorithm_costs`` signs and verifies one token per JWS algorithm with the
kit's DEMO ONLY keys and times both with ``timeit``; ``plot_algorithm_costs``
draws token size beside those timings. Timings belong to the machine that
measured them, so notebooks print them only through ``format_duration``
(``12.3 µs``, ``4.5 ms``): the one form ``tests/nbval-sanitize.cfg`` masks.

``plot_claims_timeline`` (notebook 03) puts a token's ``iat``, ``nbf`` and
``exp`` on a time line and marks where the verifier's clock check accepts it.

``plot_time_to_crack`` (notebook 05) turns a guessing rate measured on the
learner's machine into the time needed to try every secret of a given length
and alphabet, beside a published GPU rate (``HASHCAT_JWT_RTX3090``, cited).

``plot_scan_summary`` (notebook 11) shows which probes of ``labkit.scan`` got
through where: one row per scanned service, one column per probe.

Figures are returned, never shown: the caller (a notebook cell) displays them.
"""

from __future__ import annotations

import datetime as dt
import math
import timeit
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from labkit import algorithms, examples, keys, tokens
from labkit.claims import as_datetime, check_times
from labkit.display import PALETTE
from labkit.errors import InvalidClaimError

__all__ = [
    "HASHCAT_JWT_RTX3090",
    "AlgorithmCost",
    "AttackerRate",
    "algorithm_costs",
    "format_duration",
    "plot_algorithm_costs",
    "plot_claims_timeline",
    "plot_scan_summary",
    "plot_time_to_crack",
]

# Okabe-Ito colours (colour-blind safe), like labkit.display's token colours.
_SIGN_COLOUR = "#E69F00"
_VERIFY_COLOUR = "#56B4E9"
_FIGSIZE = (10.0, 5.0)
_DPI = 100  # fixed, so the figure's text repr ("<Figure size 1000x500 ...>") never changes


@dataclass(frozen=True)
class AlgorithmCost:
    """Size and speed of one JWS algorithm, measured on this machine.

    ``signing_input_chars + 1 + signature_chars == token_chars``: the token is
    ``header.payload`` plus a dot plus the base64url signature.
    """

    alg: str
    signing_input_chars: int
    signature_bytes: int
    signature_chars: int
    sign_seconds: float
    verify_seconds: float

    @property
    def token_chars(self) -> int:
        """Length of the compact token: what travels in every Authorization header."""
        return self.signing_input_chars + 1 + self.signature_chars


def algorithm_costs(
    algs: Iterable[str] = algorithms.ALGORITHMS,
    *,
    claims: dict[str, Any] | None = None,
    number: int = 25,
    repeat: int = 5,
) -> list[AlgorithmCost]:
    """Sign and verify ``claims`` under each of ``algs`` with its DEMO ONLY key, and time it.

    Each time is the best of ``repeat`` runs of ``number`` calls to
    ``labkit.algorithms.sign`` / ``verify`` on the token's signing input,
    divided by ``number``: the minimum is the least disturbed by whatever else
    the machine is doing. Times include the kit's Python overhead (a few µs),
    which is why HMAC, the fastest, is not quite free. ``claims`` defaults to
    Alice's claims from notebook 01.
    """
    if number < 1 or repeat < 1:
        raise ValueError(f"number and repeat must be at least 1, got {number} and {repeat}")
    payload = examples.LAB_CLAIMS if claims is None else claims
    costs = []
    for alg in algs:
        private = keys.demo_key_for(alg)
        public = keys.demo_key_for(alg, private=False)
        data = tokens.signing_input({"alg": alg, "typ": "JWT"}, payload)
        signature = algorithms.sign(alg, private, data)
        if not algorithms.verify(alg, public, data, signature):  # a measurement of a bug is no use
            raise AssertionError(f"{alg}: a fresh signature did not verify")
        sign = timeit.Timer(partial(algorithms.sign, alg, private, data))
        verify = timeit.Timer(partial(algorithms.verify, alg, public, data, signature))
        costs.append(
            AlgorithmCost(
                alg=alg,
                signing_input_chars=len(data),
                signature_bytes=len(signature),
                signature_chars=len(tokens.b64url_encode(signature)),
                sign_seconds=min(sign.repeat(repeat, number)) / number,
                verify_seconds=min(verify.repeat(repeat, number)) / number,
            )
        )
    return costs


def format_duration(seconds: float) -> str:
    """A duration as ``12.3 µs`` below a millisecond, else ``4.5 ms`` (never seconds).

    Exactly the forms ``tests/nbval-sanitize.cfg`` masks, so a notebook that
    prints a timing this way still compares equal on a faster machine.
    """
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {seconds}")
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.1f} ms"


def plot_algorithm_costs(costs: Sequence[AlgorithmCost]) -> Figure:
    """Token size (left) and sign/verify time (right, log scale) per algorithm.

    The size bar is split like a token: the signing input (header and payload,
    nearly the same for every algorithm) and the signature, which is where the
    algorithms differ. The figure is closed in pyplot before it is returned, so
    Jupyter shows it once, as the cell's result.
    """
    if not costs:
        raise ValueError("no costs to plot: pass the list algorithm_costs() returns")
    names = [cost.alg for cost in costs]
    rows = range(len(costs))
    fig, (size_ax, time_ax) = plt.subplots(
        1, 2, figsize=_FIGSIZE, dpi=_DPI, sharey=True, layout="constrained"
    )
    try:
        signing_input = [cost.signing_input_chars + 1 for cost in costs]  # with its dot
        size_ax.barh(rows, signing_input, color=PALETTE["payload"], label="header.payload")
        bars = size_ax.barh(
            rows,
            [cost.signature_chars for cost in costs],
            left=signing_input,
            color=PALETTE["signature"],
            label="signature",
        )
        size_ax.bar_label(bars, labels=[str(cost.token_chars) for cost in costs], padding=3)
        size_ax.set_xlabel("token length (characters)")
        size_ax.set_title("Token size")
        size_ax.set_xlim(0, max(cost.token_chars for cost in costs) * 1.15)
        size_ax.set_yticks(list(rows), names)
        size_ax.invert_yaxis()
        size_ax.legend(loc="upper right")

        height = 0.4
        time_ax.barh(
            [row - height / 2 for row in rows],
            [cost.sign_seconds * 1e6 for cost in costs],
            height=height,
            color=_SIGN_COLOUR,
            label="sign",
        )
        time_ax.barh(
            [row + height / 2 for row in rows],
            [cost.verify_seconds * 1e6 for cost in costs],
            height=height,
            color=_VERIFY_COLOUR,
            label="verify",
        )
        time_ax.set_xscale("log")
        time_ax.set_xlabel("time per operation (µs, log scale)")
        time_ax.set_title("Signing and verification cost (this machine)")
        time_ax.legend(loc="upper right")
        for ax in (size_ax, time_ax):
            ax.grid(axis="x", alpha=0.3)
            ax.set_axisbelow(True)
        fig.suptitle("One token, every JWS algorithm (DEMO ONLY keys)")
    finally:
        plt.close(fig)  # displayed once, as the returned value; no pyplot state kept
    return fig


# Claims on a time line (notebook 03) ------------------------------------------------------------

_ACCEPT_COLOUR = "#009E73"
_REFUSE_COLOUR = "#D55E00"
_WINDOW_COLOUR = "#56B4E9"


def plot_claims_timeline(
    token_claims: Mapping[str, Any],
    moments: Sequence[float],
    *,
    leeways: Sequence[float] = (0, 30),
) -> Figure:
    """Where a token's ``iat``, ``nbf`` and ``exp`` fall, and the verdict at each moment.

    One row per leeway: a bar for the window the claims allow (darker) widened by
    the leeway on both sides (lighter), and a mark at each moment (epoch seconds):
    a dot where ``labkit.claims.check_times`` accepts, a cross where it refuses.
    The verdicts come from the verifier's own check, so the figure cannot
    disagree with it. Times are shown in UTC.
    """
    if not moments or not leeways:
        raise ValueError("give at least one moment and one leeway to plot")
    marks = {name: token_claims[name] for name in ("iat", "nbf", "exp") if name in token_claims}
    times = [*marks.values(), *moments]
    margin = (max(times) - min(times)) * 0.08 + max(leeways) + 1
    left, right = min(times) - margin, max(times) + margin
    fig, ax = plt.subplots(figsize=(10.0, 1.2 + 0.7 * len(leeways)), dpi=_DPI, layout="constrained")
    try:
        rows = range(len(leeways) - 1, -1, -1)  # the first leeway on top
        for row, leeway in zip(rows, leeways, strict=True):
            _timeline_row(ax, row, token_claims, moments, leeway, (left, right))
        for name, value in marks.items():
            ax.axvline(as_datetime(value), color="0.35", linestyle="--", linewidth=1)
            ax.annotate(
                name,
                (as_datetime(value), len(leeways) - 0.45),
                xytext=(3, 0),
                textcoords="offset points",
                va="bottom",
            )
        ax.set_yticks(list(rows), [f"leeway {leeway:g} s" for leeway in leeways])
        ax.set_ylim(-0.6, len(leeways) - 0.1)
        ax.set_xlim(as_datetime(left), as_datetime(right))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=dt.timezone.utc))
        ax.set_xlabel("time (UTC)")
        ax.legend(
            handles=[
                Line2D([], [], marker="o", color=_ACCEPT_COLOUR, linestyle="", label="accepted"),
                Line2D([], [], marker="X", color=_REFUSE_COLOUR, linestyle="", label="refused"),
            ],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
        )
        ax.set_title("When the claims let the token in")
    finally:
        plt.close(fig)  # displayed once, as the returned value; no pyplot state kept
    return fig


def _timeline_row(
    ax: Any,
    row: int,
    token_claims: Mapping[str, Any],
    moments: Sequence[float],
    leeway: float,
    limits: tuple[float, float],
) -> None:
    starts = [token_claims[name] for name in ("iat", "nbf") if name in token_claims]
    start = max(starts) if starts else limits[0]
    end = token_claims.get("exp", limits[1])
    for lo, hi, alpha in ((start - leeway, end + leeway, 0.25), (start, end, 0.6)):
        width = dt.timedelta(seconds=hi - lo)
        ax.barh(row, width, left=as_datetime(lo), height=0.5, color=_WINDOW_COLOUR, alpha=alpha)
    for moment in moments:
        try:
            check_times(token_claims, now=moment, leeway=leeway)
            style = {"marker": "o", "color": _ACCEPT_COLOUR}
        except InvalidClaimError:
            style = {"marker": "X", "color": _REFUSE_COLOUR}
        ax.plot(as_datetime(moment), row, markersize=10, linestyle="", zorder=3, **style)


# Time to crack (notebook 05) --------------------------------------------------------------------

_ALPHABETS = (
    ("digits (10)", 10, "#999999"),
    ("lower case (26)", 26, "#E69F00"),
    ("lower case + digits (36)", 36, "#56B4E9"),
    ("letters + digits (62)", 62, "#009E73"),
    ("printable ASCII (95)", 95, "#0072B2"),
)
_YEAR_SECONDS = 365.25 * 24 * 3600
_LANDMARKS = (
    ("1 second", 1.0),
    ("1 hour", 3600.0),
    ("1 day", 24 * 3600.0),
    ("1 year", _YEAR_SECONDS),
    ("age of the universe", 13.8e9 * _YEAR_SECONDS),
)


@dataclass(frozen=True)
class AttackerRate:
    """A published guessing rate: who measured what, on which hardware, and where it is written."""

    label: str
    rate: float  # guesses per second
    source: str  # the URL the figure cites


HASHCAT_JWT_RTX3090 = AttackerRate(
    label="hashcat -m 16500 (JWT), one RTX 3090",
    rate=1854.7e6,
    source="https://gist.github.com/Chick3nman/e4fcee00cb6d82874dace72106d73fef",
)
"""hashcat v6.1.1's JWT (HS256) benchmark on one RTX 3090: 1854.7 MH/s, Chick3nman's gist.

Reports of the same author's RTX 4090 benchmarks put that card at about twice the
3090 on most modes, so this rate is a floor for a current GPU, not a ceiling.
"""


def plot_time_to_crack(
    rate: float,
    *,
    cores: int = 1,
    max_length: int = 16,
    wordlist: int = 10_000_000,
    attacker: AttackerRate | None = None,
) -> Figure:
    """Time to try every secret of each length and alphabet, at ``rate`` guesses/s per core.

    ``rate`` should be measured where the learner sits
    (``labkit.attacks.crack.measure_rate``), so the figure speaks about their own
    machine; ``cores`` scales it the way ``labkit crack`` does. A dashed line marks
    a ``wordlist``-word dictionary, which is what a secret a person chose is up
    against however long it looks; a note gives the time for 32 random bytes.
    ``attacker`` adds the same search at a published GPU rate (dotted, in the same
    colours), with its source printed under the figure: the learner's laptop is
    not who they are up against.
    """
    if rate <= 0 or cores < 1 or max_length < 1:
        raise ValueError(
            f"need rate > 0, cores >= 1 and max_length >= 1, got {rate}, {cores}, {max_length}"
        )
    if attacker is not None and attacker.rate <= 0:
        raise ValueError(f"an attacker's rate must be > 0, got {attacker.rate}")
    speed = rate * cores
    lengths = range(1, max_length + 1)
    fig, ax = plt.subplots(figsize=_FIGSIZE, dpi=_DPI, layout="constrained")
    try:
        for label, size, colour in _ALPHABETS:
            seconds = [size**length / speed for length in lengths]
            ax.plot(lengths, seconds, marker="o", markersize=4, color=colour, label=label)
        if attacker is not None:
            for _label, size, colour in _ALPHABETS:
                seconds = [size**length / attacker.rate for length in lengths]
                ax.plot(lengths, seconds, linestyle=":", linewidth=1.5, color=colour)
            ax.plot([], [], linestyle=":", color="0.3", label=f"dotted: {attacker.label}")
            fig.supxlabel(  # a figure-level caption, so constrained layout makes room for it
                f"dotted: {attacker.label}, {attacker.rate / 1e9:.2f} billion guesses/s "
                f"({attacker.source})",
                fontsize=7,
                color="0.3",
            )
        ax.axhline(wordlist / speed, color=_REFUSE_COLOUR, linestyle="--", linewidth=1.5)
        ax.annotate(
            f"any word of a {wordlist:,}-word list",
            (max_length + 0.4, wordlist / speed),
            xytext=(0, 4),
            textcoords="offset points",
            ha="right",
            color=_REFUSE_COLOUR,
        )
        for name, seconds in _LANDMARKS:
            ax.axhline(seconds, color="0.6", linestyle=":", linewidth=1)
            ax.annotate(name, (0.6, seconds), xytext=(0, 2), textcoords="offset points", fontsize=8)
        fastest = speed if attacker is None else max(speed, attacker.rate)
        years = 2**256 / fastest / _YEAR_SECONDS
        ax.text(
            0.99,
            0.03,
            f"secrets.token_bytes(32): about $10^{{{math.floor(math.log10(years))}}}$ years"
            + ("" if attacker is None else " even on the GPU"),
            transform=ax.transAxes,
            ha="right",
            bbox={"facecolor": "white", "edgecolor": "0.6"},
        )
        ax.set_yscale("log")
        ax.set_ylim(1e-6, 1e22)
        ax.set_xlim(0.5, max_length + 0.5)
        ax.set_xticks(list(lengths))
        ax.set_xlabel("secret length (characters, chosen at random)")
        ax.set_ylabel("time to try them all (seconds, log scale)")
        ax.set_title(
            f"Exhaustive search at {speed / 1e6:.2f} million HS256 guesses/s "
            f"(this machine, {cores} core{'s' if cores > 1 else ''})"
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="alphabet", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    finally:
        plt.close(fig)  # displayed once, as the returned value; no pyplot state kept
    return fig


# Notebook 11: what a scan let through -----------------------------------------------------------

_SCAN_COLOURS = {
    "root cause": "#D55E00",  # accepted: the probe that proves a finding
    "explained": "#E69F00",  # accepted too, but only because of that root cause
    "refused": "#009E73",
    "error": "#000000",
    "skipped": "#DDDDDD",
}


def plot_scan_summary(reports: Mapping[str, Any]) -> Figure:
    """One row per scanned service (``name -> labkit.scan.ScanReport``), one column per probe.

    A cell is vermillion where a probe proves a finding, orange where it got
    through only because of that finding (the root cause), green where it was
    refused, grey where it did not apply; each row ends with what was found.
    """
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    from labkit.scan import PROBE_IDS

    if not reports:
        raise ValueError("plot_scan_summary needs at least one report")
    names = list(reports)
    grid = [[to_rgb(_SCAN_COLOURS[_scan_cell(reports[n], p)]) for p in PROBE_IDS] for n in names]
    fig, ax = plt.subplots(figsize=_FIGSIZE, dpi=_DPI, layout="constrained")
    try:
        ax.imshow(grid, aspect="auto")
        ax.set_xticks(range(len(PROBE_IDS)), PROBE_IDS, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)), names)
        ax.set_xticks([x - 0.5 for x in range(1, len(PROBE_IDS))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(names))], minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        for row, name in enumerate(names):
            found = ", ".join(reports[name].flaws) or "clean"
            ax.annotate(
                found,
                (1.01, row),
                xycoords=("axes fraction", "data"),
                va="center",
                fontsize=9,
                color=_SCAN_COLOURS["root cause" if reports[name].flaws else "refused"],
            )
        ax.legend(
            handles=[Patch(color=colour, label=label) for label, colour in _SCAN_COLOURS.items()],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.38),
            ncol=len(_SCAN_COLOURS),
            fontsize=8,
        )
        ax.set_title("What each probe of labkit.scan got through, per service")
    finally:
        plt.close(fig)
    return fig


def _scan_cell(report: Any, probe: str) -> str:
    """The colour key of one probe in one report."""
    attempt = next((a for a in report.attempts if a.probe == probe), None)
    if attempt is None or attempt.verdict == "skipped":
        return "skipped"
    if attempt.verdict != "accepted":
        return attempt.verdict
    proofs = {a.probe for finding in report.findings for a in finding.attempts}
    return "root cause" if probe in proofs else "explained"
