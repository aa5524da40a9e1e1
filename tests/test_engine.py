"""The fit/apply seam: the Fitted record, the method protocol, and the engine called directly."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from softnorm_cli.engine import local as engine
from softnorm_cli.engine.fitted import Fitted, FittedFormatError
from softnorm_cli.io.memory import FrameSink, FrameSource
from softnorm_cli.io.sink import Layout, Sink
from softnorm_cli.io.source import BatchSize, open_source
from softnorm_cli.numeric.methods import MinMax, NoInverseError, Softmax, ZScore

METHODS = {
    "softmax": Softmax(),
    "softmax-t-log": Softmax(temperature=0.5, log=True),
    "minmax": MinMax(-1.0, 2.0),
    "minmax-propagate": MinMax(nan="propagate"),
    "zscore": ZScore(),
    "zscore-ddof": ZScore(ddof=1, nan="propagate"),
}
AXES = ["row", "column", "all"]


def _table(rows: int = 400) -> str:
    rng = np.random.default_rng(11)
    lines = ["id,a,b,note,c"]
    for i in range(rows):
        a = "" if i % 13 == 5 else f"{1e9 + rng.normal():.17g}"
        lines.append(f"{i:04d},{a},{rng.normal() * 100:.6f},\"x, {i}\",{rng.integers(0, 5)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def table_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(_table())
    return path


def _fit_save_load_apply(method, axis, path, batch: BatchSize, out_path) -> str:
    """Fit, write the record as JSON and read it back, then apply it: the output text."""
    job = engine.Job(method, axis, ["a", "b", "c"])
    with open_source(str(path), batch=batch) as source:
        fitted = engine.fit(job, source)
    record = Fitted.from_dict(json.loads(json.dumps(fitted.to_dict())))
    with open_source(str(path), batch=batch) as source, Sink(str(out_path), Layout("csv")) as sink:
        engine.apply(job, record, source, sink)
    return out_path.read_text()


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("batch", [BatchSize(), BatchSize(rows=37)], ids=["one-batch", "streamed"])
def test_fit_then_apply_from_json_equals_the_one_shot_run(invoke_ok, table_csv, tmp_path, name, axis, batch):
    method = METHODS[name]
    args = [method.name, str(table_csv), "-c", "a,b,c", "--axis", axis, "--nan", method.nan]
    args += {"softmax-t-log": ["-t", "0.5", "--log"], "minmax": ["--range", "-1,2"], "zscore-ddof": ["--ddof", "1"]}.get(name, [])
    if batch.rows:
        args += ["--batch-rows", str(batch.rows)]
    one_shot = invoke_ok(*args).stdout
    assert _fit_save_load_apply(method, axis, table_csv, batch, tmp_path / "out.csv") == one_shot


def test_fitted_json_round_trip_is_exact():
    x = np.array([[1e9 + 0.1, -1e-300, np.nan], [1e9 - 0.3, 5e-324, np.nan], [1e9, 1.0, np.nan]])
    job = engine.Job(ZScore(ddof=1), "column", ["0", "1", "2"])
    source = FrameSource(pl.from_numpy(x, schema=["0", "1", "2"], orient="row"))
    fitted = engine.fit(job, source)
    text = json.dumps(fitted.to_dict())
    back = Fitted.from_dict(json.loads(text))
    assert back.to_dict() == fitted.to_dict()
    for name, values in fitted.statistics.items():
        got = back.statistics[name]
        assert got.dtype == values.dtype
        assert_array_equal(got, values)  # NaN where NaN
        present = ~np.isnan(values) if values.dtype.kind == "f" else np.ones(values.shape, bool)
        assert_array_equal(got[present].view(np.uint8), values[present].view(np.uint8))  # bit for bit
    data = json.loads(text)
    assert data["format"] == 1 and data["command"] == "zscore" and data["options"]["ddof"] == 1
    assert data["groups"][0]["statistics"]["2"]["mean"] == "nan"  # no NaN in strict JSON
    assert list(data["groups"][0]["statistics"]) == ["0", "1", "2"]


def test_fitted_record_for_the_whole_block_and_softmax():
    x = np.array([[1.0, 2.0], [3.0, np.inf]])
    job = engine.Job(Softmax(temperature=2.0), "all", ["0", "1"])
    fitted = engine.fit(job, FrameSource(pl.from_numpy(x, schema=["0", "1"], orient="row")))
    data = fitted.to_dict()
    assert list(data["groups"][0]["statistics"]) == ["*"]
    assert data["groups"][0]["statistics"]["*"]["posinf"] == 1
    assert data["options"] == {"temperature": 2.0, "log": False, "nan": "omit", "inf": "limit"}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(format=2), "format 2; this softnorm reads format 1"),
        (lambda d: d.update(command="tanh"), "not a softnorm parameters record"),
        (lambda d: d["groups"][0]["statistics"]["0"].pop("max"), "not a softnorm parameters record"),
        (lambda d: d.pop("columns"), "not a softnorm parameters record"),
    ],
)
def test_a_damaged_record_is_refused(change, message):
    job = engine.Job(MinMax(), "column", ["0"])
    data = engine.fit(job, FrameSource(pl.DataFrame({"0": [1.0, 2.0]}))).to_dict()
    change(data)
    with pytest.raises(FittedFormatError, match=message):
        Fitted.from_dict(data)


def test_row_axis_fits_nothing():
    job = engine.Job(Softmax(), "row", ["0", "1"])
    fitted = engine.fit(job, FrameSource(pl.DataFrame({"0": [1.0], "1": [2.0]})))
    assert fitted.statistics is None and fitted.to_dict()["groups"] == []


# --------------------------------------------------------------------------
# The engine boundary, from Python
# --------------------------------------------------------------------------


def test_engine_on_a_frame_in_memory_matches_sklearn():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(50, 3))
    frame = pl.from_numpy(x, schema=["a", "b", "c"], orient="row").with_columns(pl.Series("id", [str(i) for i in range(50)]))
    job = engine.Job(ZScore(), "column")
    source, sink = FrameSource(frame), FrameSink()
    fitted = engine.fit(job, source)
    assert fitted.columns == ["a", "b", "c"]  # chosen by type: id is text
    summary = engine.apply(job, fitted, source, sink)
    assert summary.rows == 50 and summary.skipped == {"id": "text"}
    assert sink.frame["id"].to_list() == frame["id"].to_list()
    assert_allclose(sink.frame.select("a", "b", "c").to_numpy(), StandardScaler().fit_transform(x), rtol=1e-13)


def test_fit_on_one_table_apply_to_another(tmp_path):
    """Training statistics on test data: what a saved parameters file will do."""
    from sklearn.preprocessing import MinMaxScaler

    rng = np.random.default_rng(4)
    train, test = rng.normal(size=(30, 2)), rng.normal(size=(10, 2)) * 3
    job = engine.Job(MinMax(), "column", ["a", "b"])
    fitted = engine.fit(job, FrameSource(pl.from_numpy(train, schema=["a", "b"], orient="row")))
    sink = FrameSink()
    engine.apply(job, fitted, FrameSource(pl.from_numpy(test, schema=["a", "b"], orient="row")), sink)
    want = MinMaxScaler().fit(train).transform(test)  # outside [0, 1]: not clipped
    assert_allclose(sink.frame.to_numpy(), want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("method", [MinMax(), MinMax(-5.0, 5.0), ZScore(), ZScore(ddof=1)], ids=repr)
@pytest.mark.parametrize("axis", [0, None])
def test_inverse_restores_the_values(method, axis):
    rng = np.random.default_rng(9)
    if axis == 0:  # columns far from zero, tiny, and constant
        x = np.column_stack([rng.normal(1e9, 1.0, 200), rng.normal(0.0, 1e-5, 200), np.full(200, 7.25)])
    else:  # one group: relative precision holds for values of its own scale
        x = rng.normal(1e9, 1.0, (200, 3))
    x[3, 0] = np.nan
    stats = method.finish(method.fit(x, axis))
    back = method.inverse(method.transform(x, stats), stats)
    assert_allclose(back, x, rtol=1e-12, atol=0)
    assert np.isnan(back[3, 0])


def test_softmax_has_no_inverse():
    method = Softmax()
    x = np.array([[1.0, 2.0]])
    stats = method.finish(method.fit(x, 0))
    with pytest.raises(NoInverseError, match="softmax has no inverse"):
        method.inverse(method.transform(x, stats), stats)


def test_minmax_clip_is_decided_when_applying():
    fitted_on = np.array([[0.0], [10.0]])
    new = np.array([[-5.0], [5.0], [20.0]])
    plain, clipped = MinMax(), MinMax(clip=True)
    stats = plain.finish(plain.fit(fitted_on, 0))
    assert_array_equal(plain.transform(new, stats).ravel(), [-0.5, 0.5, 2.0])
    assert_array_equal(clipped.transform(new, stats).ravel(), [0.0, 0.5, 1.0])


def test_nan_propagation_is_decided_when_applying():
    x = np.array([[1.0], [np.nan], [3.0]])
    stats = ZScore().finish(ZScore().fit(x, 0))  # the statistics do not depend on the policy
    assert np.isnan(ZScore(nan="propagate").transform(x, stats)).all()
    assert_allclose(ZScore().transform(x, stats).ravel(), [-1.0, np.nan, 1.0])


def test_the_api_runs_through_the_engine(monkeypatch):
    from softnorm_cli import api
    from softnorm_cli.engine import local

    calls = []
    real_fit, real_apply = local.fit_part, local.apply_part
    monkeypatch.setattr(local, "fit_part", lambda *a, **k: calls.append("fit") or real_fit(*a, **k))
    monkeypatch.setattr(local, "apply_part", lambda *a, **k: calls.append("apply") or real_apply(*a, **k))
    assert_allclose(api.zscore([[1.0], [2.0], [3.0]]).ravel(), [-1.224744871391589, 0.0, 1.224744871391589])
    assert calls == ["fit", "apply"]


def test_summary_from_apply_on_a_stream(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,x\n2,y\n3,z\n")
    job = engine.Job(MinMax(), "column", figures=True)
    with open_source(str(path)) as source:
        fitted = engine.fit(job, source)
        sink = FrameSink()
        summary = engine.apply(job, fitted, source, sink)
    assert sink.frame["a"].to_list() == [0.0, 0.5, 1.0]
    assert summary.before["a"]["max"] == 3.0 and summary.after["a"]["max"] == 1.0
    assert summary.skipped == {"b": "not numbers ('x', row 1)"}


def test_a_table_is_kept_between_the_passes_only_while_the_process_has_room(tmp_path, monkeypatch):
    """A CSV that fits is parsed once for both passes; not when the process is near its memory bound."""
    from softnorm_cli.engine import memory
    from softnorm_cli.io.memory import FrameSink
    from softnorm_cli.io.source import open_source
    from softnorm_cli.numeric.methods import ZScore

    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(5000)))
    job = engine.Job(ZScore(), "column", ["a,b"])
    outputs = []
    for limit, reads in ((1 << 62, 1), (0, 2)):
        monkeypatch.setattr(memory, "RESIDENT_LIMIT", limit)
        with open_source(str(path)) as source:
            calls: list = []

            def counted(*args, calls=calls, batches=source.batches, **kwargs):
                calls.append(1)
                return batches(*args, **kwargs)

            monkeypatch.setattr(source, "batches", counted)
            sink = FrameSink()
            engine.fit_apply(job, source, sink)
            assert len(calls) == reads
            outputs.append(sink.frame)
    assert outputs[0].equals(outputs[1])
