"""One table of constraints per method and for the job: the Python API and the command line refuse
the same values in the same words (softnorm_cli/numeric/parameters.py)."""

from __future__ import annotations

import numpy as np
import pytest

from softnorm_cli import api, engine
from softnorm_cli.numeric.methods import MinMax, Softmax, ZScore

# (what the API is given, the command line that says the same, the parameter named)
REFUSED = [
    (lambda: Softmax(temperature=0), ["softmax", "--temperature", "0"], "temperature"),
    (lambda: Softmax(temperature=float("inf")), ["softmax", "--temperature", "inf"], "temperature"),
    (lambda: Softmax(inf="keep"), ["softmax", "--inf", "keep"], "inf"),
    (lambda: ZScore(ddof=-1), ["zscore", "--ddof", "-1"], "ddof"),
    (lambda: ZScore(ddof=1.5), ["zscore", "--ddof", "1.5"], "ddof"),
    (lambda: ZScore(nan="bogus"), ["zscore", "--nan", "bogus"], "nan"),
    (lambda: MinMax(inf="limit"), ["minmax", "--inf", "limit"], "inf"),
    (lambda: MinMax(2.0, 1.0), ["minmax", "--range", "2,1"], "feature_range"),
    (lambda: engine.Job(ZScore(), "sideways"), ["zscore", "--axis", "sideways"], "axis"),
    (lambda: engine.Job(ZScore(), "column", decimals=-1), ["zscore", "--decimals", "-1"], "decimals"),
    (lambda: engine.Job(ZScore(), "column", unseen="skip"), ["zscore", "--unseen", "skip"], "unseen"),
]


@pytest.mark.parametrize("make, args, name", REFUSED, ids=[args[-2] + "=" + args[-1] for _, args, _ in REFUSED])
def test_the_api_and_the_command_line_refuse_alike(invoke, write_file, make, args, name):
    with pytest.raises(ValueError) as refused:
        make()
    message = str(refused.value)
    assert message.startswith(f"{name} must be ")
    write_file("t.csv", "a,b\n1,2\n3,4\n")
    result = invoke(args[0], "t.csv", *args[1:])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.rstrip().endswith(f": {message}")


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: api.softmax(x, temperature=-1), "temperature"),
        (lambda x: api.zscore(x, ddof=-1), "ddof"),
        (lambda x: api.zscore(x, nan="bogus"), "nan"),
        (lambda x: api.minmax(x, feature_range=(1, 1)), "feature_range"),
        (lambda x: api.minmax(x, axis="diagonal"), "axis"),
        (lambda x: api.softmax(x, inf="error"), "inf"),
    ],
)
def test_the_functions_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name} must be "):
        call(np.ones((2, 2)))


def test_values_are_converted_as_they_are_checked():
    assert Softmax(temperature=2).temperature == 2.0 and isinstance(Softmax(temperature=2).temperature, float)
    assert ZScore(ddof=np.int64(1)).ddof == 1 and type(ZScore(ddof=1.0).ddof) is int
    assert Softmax(log=np.bool_(True)).log is True


@pytest.mark.parametrize("spelling, axis", [("columns", "column"), ("0", "column"), ("ROWS", "row"), (1, "row"), ("none", "all")])
def test_a_job_takes_every_spelling_of_an_axis(spelling, axis):
    assert engine.Job(ZScore(), spelling).axis == axis


def test_a_job_refuses_what_its_parts_cannot_do_together():
    with pytest.raises(ValueError, match="^softmax has no inverse"):
        engine.Job(Softmax(), "column", inverse=True)
    with pytest.raises(ValueError, match="^group_by needs axis"):
        engine.Job(ZScore(), "row", group_by=["g"])
    with pytest.raises(ValueError, match="^method must be"):
        engine.Job("zscore", "column")
