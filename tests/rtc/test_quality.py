import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtc.quality import Figures, Verdict, browser_table, verdict


def test_fast_and_lossless_is_good():
    v, f = verdict([10.0, 12.0, 11.0], 3, 3)
    assert v is Verdict.GOOD and v.label == "良好"
    assert f == Figures(median_rtt_ms=11.0, loss=0.0, sent=3, received=3)


@pytest.mark.parametrize(("samples", "sent", "received", "expected"), [
    ([149.9] * 20, 20, 20, Verdict.GOOD),
    ([150.0] * 20, 20, 20, Verdict.USABLE),        # the bound belongs to the worse verdict
    ([20.0] * 19, 20, 19, Verdict.USABLE),         # one ping in 20 lost is 5 %
    ([399.0] * 20, 20, 20, Verdict.USABLE),
    ([400.0] * 20, 20, 20, Verdict.POOR),
    ([20.0] * 18, 20, 18, Verdict.POOR),           # 10 % lost
    ([], 20, 0, Verdict.POOR),                     # nothing came back
    ([], 0, 0, Verdict.POOR),                      # nothing was measured
])
def test_bounds(samples, sent, received, expected):
    assert verdict(samples, sent, received)[0] is expected


def test_labels_and_median():
    assert [v.label for v in Verdict] == ["良好", "可用", "较差"]
    _, f = verdict([1.0, 500.0, 3.0, 2.0], 4, 4)
    assert f.median_rtt_ms == 2.5  # one slow ping does not sink the verdict
    assert f.loss == 0.0


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        verdict([1.0], 1, 2)
    with pytest.raises(ValueError):
        verdict([-1.0], 1, 1)


def test_thresholds_and_labels_for_the_browser():
    assert browser_table() == {"goodRttMs": 150.0, "goodLoss": 0.02,
                               "usableRttMs": 400.0, "usableLoss": 0.10,
                               "labels": {"good": "良好", "usable": "可用", "poor": "较差"}}


rtts = st.floats(min_value=0, max_value=5000, allow_nan=False)


@given(samples=st.lists(rtts, max_size=40), lost=st.integers(0, 40),
       slower=st.floats(min_value=0, max_value=2000, allow_nan=False),
       more_lost=st.integers(0, 40))
def test_worse_figures_never_give_a_better_verdict(samples, lost, slower, more_lost):
    received = len(samples)
    base, base_figures = verdict(samples, received + lost, received)
    # worse: every answer takes longer, and more pings went out for the same answers.
    # (Dropping answers from the list is not "worse": losing the slow ones lowers the median.)
    worse, worse_figures = verdict([s + slower for s in samples], received + lost + more_lost,
                                   received)
    assert worse_figures.loss >= base_figures.loss
    assert worse.rank <= base.rank
