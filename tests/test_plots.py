"""labkit.plots: the live cost measurement and the figure notebook 02 draws from it."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from labkit import algorithms, examples, keys, plots
from labkit.errors import DisallowedAlgorithmError

SANITIZE = Path(__file__).with_name("nbval-sanitize.cfg")
SIGNATURE_BYTES = {
    "HS256": 32,
    "HS384": 48,
    "HS512": 64,
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), 256),
    "ES256": 64,
    "ES384": 96,
    "ES512": 132,
    "EdDSA": 64,
}


@pytest.fixture(autouse=True)
def _agg_backend() -> None:
    plt.switch_backend("agg")  # never open a window, whatever the developer's default


@pytest.fixture(scope="module")
def costs() -> list[plots.AlgorithmCost]:
    return plots.algorithm_costs(number=2, repeat=1)  # fast: sanity, not benchmarking


def test_costs_cover_every_algorithm_in_order(costs: list[plots.AlgorithmCost]) -> None:
    assert [cost.alg for cost in costs] == list(algorithms.ALGORITHMS)


def test_costs_are_sane_numbers(costs: list[plots.AlgorithmCost]) -> None:
    for cost in costs:
        assert cost.signature_bytes == SIGNATURE_BYTES[cost.alg], cost.alg
        assert 0 < cost.sign_seconds < 1, cost
        assert 0 < cost.verify_seconds < 1, cost
        token = algorithms.sign_token(examples.LAB_CLAIMS, keys.demo_key_for(cost.alg), cost.alg)
        assert cost.token_chars == len(token), cost.alg
        assert cost.signing_input_chars + 1 + cost.signature_chars == cost.token_chars


def test_costs_for_chosen_algorithms_and_claims() -> None:
    small = plots.algorithm_costs(["EdDSA", "HS256"], claims={"sub": "bob"}, number=1, repeat=1)
    assert [cost.alg for cost in small] == ["EdDSA", "HS256"]
    token = algorithms.sign_token({"sub": "bob"}, keys.demo_secret(), "HS256")
    assert small[1].token_chars == len(token)


@pytest.mark.parametrize("alg", ["none", "HS1024"])
def test_costs_refuse_unknown_and_none_algorithms(alg: str) -> None:
    with pytest.raises(DisallowedAlgorithmError):
        plots.algorithm_costs([alg], number=1, repeat=1)


def test_costs_refuse_zero_iterations() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plots.algorithm_costs(number=0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0.0 µs"),
        (2.34e-6, "2.3 µs"),
        (0.000999, "999.0 µs"),
        (0.0045, "4.5 ms"),
        (2.5, "2500.0 ms"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert plots.format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0.0, 3.2e-7, 4.56e-5, 0.0123, 7.0])
def test_every_duration_is_masked_by_the_nbval_sanitizer(seconds: float) -> None:
    config = configparser.ConfigParser()
    config.read(SANITIZE, encoding="utf-8")
    pattern = config["timings"]["regex"]
    line = f"sign {plots.format_duration(seconds)} · verify"
    assert re.sub(pattern, "<TIME>", line) == "sign <TIME> · verify"


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        plots.format_duration(-1e-6)


def test_figure_axes_and_labels(costs: list[plots.AlgorithmCost]) -> None:
    fig = plots.plot_algorithm_costs(costs)
    size_ax, time_ax = fig.axes
    assert size_ax.get_xlabel() == "token length (characters)"
    assert time_ax.get_xlabel() == "time per operation (µs, log scale)"
    assert size_ax.get_title() == "Token size"
    assert "this machine" in time_ax.get_title()
    assert time_ax.get_xscale() == "log"
    names = [label.get_text() for label in size_ax.get_yticklabels()]
    assert names == list(algorithms.ALGORITHMS)
    assert [t.get_text() for t in size_ax.get_legend().get_texts()] == [
        "header.payload",
        "signature",
    ]
    assert [t.get_text() for t in time_ax.get_legend().get_texts()] == ["sign", "verify"]
    totals = [text.get_text() for text in size_ax.texts]
    assert totals == [str(cost.token_chars) for cost in costs]
    assert len(time_ax.patches) == 2 * len(costs)


def test_figure_repr_is_stable_and_not_left_open(costs: list[plots.AlgorithmCost]) -> None:
    """nbval compares the figure's text repr: its size must not depend on rcParams."""
    with plt.rc_context({"figure.dpi": 72, "figure.figsize": (3, 2)}):
        fig = plots.plot_algorithm_costs(costs)
    assert repr(fig) == "<Figure size 1000x500 with 2 Axes>"
    assert fig.number not in plt.get_fignums()


def test_figure_needs_costs() -> None:
    with pytest.raises(ValueError, match="no costs"):
        plots.plot_algorithm_costs([])


# Notebook 05: time to crack, at this machine's rate and at a published GPU rate -------------


def test_time_to_crack_draws_every_alphabet_and_the_wordlist_line() -> None:
    fig = plots.plot_time_to_crack(1e6, cores=2, max_length=8)
    ax = fig.axes[0]
    assert len([line for line in ax.get_lines() if line.get_marker() == "o"]) == 5
    assert "2.00 million HS256 guesses/s" in ax.get_title()
    assert fig.get_supxlabel() == ""  # no attacker, no source line


def test_time_to_crack_shows_the_attackers_rate_and_cites_it() -> None:
    attacker = plots.HASHCAT_JWT_RTX3090
    fig = plots.plot_time_to_crack(1e6, attacker=attacker)
    ax = fig.axes[0]
    ours = [line for line in ax.get_lines() if line.get_marker() == "o"]
    gpu = [
        line
        for line in ax.get_lines()
        if line.get_linestyle() == ":" and len(line.get_xdata()) == 16
    ]
    assert len(gpu) == len(ours) == 5
    # Same alphabet, same length: the GPU's curve sits lower by exactly the ratio of the rates.
    for mine, theirs in zip(ours, gpu, strict=True):
        assert mine.get_color() == theirs.get_color()
        ratio = mine.get_ydata()[-1] / theirs.get_ydata()[-1]
        assert ratio == pytest.approx(attacker.rate / 1e6)
    caption = fig.get_supxlabel()
    assert "hashcat -m 16500" in caption and attacker.source in caption
    assert attacker.source.startswith("https://gist.github.com/")
    note = next(t.get_text() for t in ax.texts if "token_bytes" in t.get_text())
    assert "even on the GPU" in note


def test_time_to_crack_refuses_nonsense_rates() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        plots.plot_time_to_crack(0)
    with pytest.raises(ValueError, match="attacker's rate"):
        plots.plot_time_to_crack(1.0, attacker=plots.AttackerRate("x", 0, "https://example"))
