"""The result container (data/frames.py) gives back exactly what was packed: values, dtypes,
categoricals, index, attrs — for the engine's own frames and for odd hand-made ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import frames


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.dtypes) == list(b.dtypes)
    assert a.attrs == b.attrs


def test_odd_frames_round_trip_exactly():
    df = pd.DataFrame({
        "f": [1.5, np.nan, -0.0, 1e-300],
        "i": np.array([1, 2, 3, 4], dtype=np.int64),
        "b": [True, False, True, False],
        "s": pd.array(["甲", None, "乙", "甲"], dtype="str"),
        "o": np.array(["x", None, "y", "z"], dtype=object),
        "c": pd.Categorical(["a", "b", "a", None], categories=["b", "a"]),
        "lists": pd.Series([["等次未达优秀"], [], ["一票否决", "名额已满"], []], dtype=object),
    }, index=pd.Index(["u1", "u2", "u3", "u4"], name="unit"))
    df.attrs.update(note="先进仅年度推荐", as_of="2025-12-31")
    out, meta = frames.unpack(frames.pack({"df": df, "empty": df.iloc[0:0]}, {"k": [1, "二"]}))
    assert meta == {"k": [1, "二"]}
    _same(df, out["df"])
    _same(df.iloc[0:0], out["empty"])


def test_containers_written_with_zlib_before_zstd_still_read():
    """Publication snapshots keep their bytes for good: a DJF1 (zlib) container reads as it always did."""
    import struct
    import zlib

    import pyarrow as pa

    df = pd.DataFrame({"unit": pd.array(["C01", "C02"], dtype="str"), "total": [91.5, np.nan]})
    new = frames.pack({"units": df}, {"table_version": "2026"})
    assert new[:4] == frames.MAGIC
    (size,) = struct.unpack_from("<Q", new, 4)
    body = pa.decompress(new[12:], decompressed_size=size, codec="zstd", asbytes=True)
    old = frames.MAGIC_ZLIB + zlib.compress(body, 1)  # what pack wrote before DJF2
    for data in (new, old):
        out, meta = frames.unpack(data)
        _same(df, out["units"])
        assert meta == {"table_version": "2026"}


def test_not_a_container_is_refused():
    with pytest.raises(ValueError):
        frames.unpack(b"PK\x03\x04 a zip, not ours")


def test_the_engines_result_round_trips_exactly(seeded_sqlite):
    from data import services

    res = services.score_period("2026H1", seeded_sqlite)
    back = frames.unpack_result(frames.pack_result(res))
    for name in ("items", "areas", "units", "values"):
        _same(getattr(res, name), getattr(back, name))
    assert (back.table_version, back.period_kind, back.scale, back.notes) == (
        res.table_version, res.period_kind, res.scale, res.notes)
    code = res.units["unit"].iloc[3]
    pd.testing.assert_frame_equal(back.items_for(code), res.items_for(code))
