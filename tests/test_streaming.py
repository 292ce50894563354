"""Per-problem results streamed block by block: the same numbers and files, in flat memory."""

import numba
import numpy as np
import pytest

from simsearch import simulate_pass_at_k
from simsearch.io.tables import table_data, table_stream
from simsearch.sampling.passk import stream_pass_at_k
from simsearch.seeding import CHUNK_SIZE

SPEC = "beta(alpha=0.3, beta=3)"
K = [1, 10, 100, 1000]


def _bytes(data) -> bytes:
    return b"".join(bytes(memoryview(c)) if not isinstance(c, str) else c.encode()
                    for c in data)


@pytest.mark.parametrize("replicates", [1, 3])
def test_the_stream_is_the_whole_simulation_bit_for_bit(replicates):
    problems = 3 * CHUNK_SIZE + 1234  # a partial last chunk in every replicate
    whole = simulate_pass_at_k(SPEC, K, problems, replicates=replicates, seed=8,
                               per_problem=True)
    run = stream_pass_at_k(SPEC, K, problems, replicates=replicates, seed=8)
    blocks = list(run.columns())
    table = whole.per_problem_table()
    for name, column in table.items():
        got = np.concatenate([b[name] for b in blocks])
        assert got.dtype == column.dtype, name
        np.testing.assert_array_equal(got, column, err_msg=name)
    result = run.result()
    np.testing.assert_array_equal(result.fail_counts, whole.fail_counts)
    assert result.seed_entropy == whole.seed_entropy == run.seed_entropy
    # memory of one kernel call's chunks, not of the problems
    most = 4 * numba.get_num_threads() * CHUNK_SIZE
    assert max(b["p"].size for b in blocks) <= most
    assert run.n_rows == problems * replicates == sum(b["p"].size for b in blocks)


def test_the_result_needs_the_whole_stream():
    run = stream_pass_at_k(SPEC, K, 1000, seed=1)
    with pytest.raises(Exception, match="read every block"):
        run.result()


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".npz"])
def test_a_streamed_table_is_the_file_of_the_whole_table(tmp_path, suffix):
    problems = 2 * CHUNK_SIZE + 77
    whole = simulate_pass_at_k(SPEC, K, problems, replicates=2, seed=3, per_problem=True)
    run = stream_pass_at_k(SPEC, K, problems, replicates=2, seed=3)
    path = tmp_path / f"t{suffix}"
    streamed = table_stream(path, run.columns(), run.n_rows)
    direct = table_data(path, whole.per_problem_table())
    if suffix == ".npz":  # written whole by a file writer
        streamed.write(tmp_path / "a.npz")
        direct.write(tmp_path / "b.npz")
        a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
        for name in b.files:
            np.testing.assert_array_equal(a[name], b[name])
    else:
        assert _bytes(streamed) == _bytes(direct)


def test_a_stream_shorter_than_its_header_is_refused(tmp_path):
    blocks = [{"p": np.zeros(3)}]
    with pytest.raises(ValueError, match="3 rows arrived, the header says 5"):
        _bytes(table_stream(tmp_path / "t.npy", blocks, 5))


def test_reused_buffers_give_the_same_file_and_stay_one_block(tmp_path, monkeypatch):
    """The command's path (buffers shared between blocks, rows written in a second thread)
    writes what the whole table gives, for blocks, npy chunks and Parquet row groups that
    all end off each other's boundaries."""
    import simsearch.io.output as output
    import simsearch.io.tables as tables

    monkeypatch.setattr(tables, "NPY_ROWS_PER_CHUNK", 5_000)
    monkeypatch.setattr(tables, "PARQUET_ROW_GROUP", 70_001)
    problems = 2 * CHUNK_SIZE + 77
    whole = simulate_pass_at_k(SPEC, K, problems, replicates=2, seed=5, per_problem=True)
    for suffix in (".npy", ".csv", ".parquet"):
        run = stream_pass_at_k(SPEC, K, problems, replicates=2, seed=5)
        path = tmp_path / f"t{suffix}"
        output.write_file(path, table_stream(path, run.columns(reuse_buffers=True),
                                             run.n_rows))
        expected = tmp_path / f"whole{suffix}"
        data = table_data(expected, whole.per_problem_table())
        if suffix == ".parquet":  # the whole table in row groups of the same size
            import pyarrow as pa
            import pyarrow.parquet as pq
            pq.write_table(pa.table(whole.per_problem_table()), expected,
                           row_group_size=tables.PARQUET_ROW_GROUP)
            assert pq.ParquetFile(path).metadata.num_row_groups == 4  # 262,298 rows
        else:
            output.write_file(expected, data)
        assert path.read_bytes() == expected.read_bytes(), suffix
    run = stream_pass_at_k(SPEC, K, problems, replicates=2, seed=5)
    buffers = {b["p"].__array_interface__["data"][0] for b in run.columns(reuse_buffers=True)}
    assert len(buffers) == 1  # one buffer for every block: memory of one block


def test_a_streamed_npz_holds_each_column_as_numpy_saves_it(tmp_path):
    import io
    import zipfile

    problems = CHUNK_SIZE + 3
    whole = simulate_pass_at_k(SPEC, K, problems, replicates=2, seed=4, per_problem=True)
    run = stream_pass_at_k(SPEC, K, problems, replicates=2, seed=4)
    path = tmp_path / "t.npz"
    table_stream(path, run.columns(reuse_buffers=True), run.n_rows).write(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [f"{n}.npy" for n in whole.per_problem_table()]
        for name, column in whole.per_problem_table().items():
            expected = io.BytesIO()
            np.save(expected, column)
            assert archive.read(f"{name}.npy") == expected.getvalue(), name
    assert not [p for p in tmp_path.iterdir() if p.name != "t.npz"]  # no spill left behind


def test_a_failed_streamed_write_leaves_no_file(tmp_path):
    from simsearch.io.output import write_with_manifest

    def blocks():
        yield {"p": np.zeros(10)}
        raise KeyboardInterrupt

    for suffix in (".npy", ".parquet", ".npz", ".csv"):
        path = tmp_path / f"t{suffix}"
        with pytest.raises(KeyboardInterrupt):
            write_with_manifest(path, table_stream(path, blocks(), 20), {"command": "test"})
    assert list(tmp_path.iterdir()) == []
