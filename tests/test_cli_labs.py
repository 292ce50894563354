"""``simsearch labs``: output contract, manifest, estimates, and clean failure on bad configs."""

import json
from pathlib import Path

import numpy as np
import pytest

from simsearch import __version__
from simsearch.io.output import read_manifest
from test_cli import _read_csv as _read
from test_cli import _run, default_sigint, load_factor

CONFIG = """
seed = 4
replicates = 3
periods = 5
sharing = 0.5

[pool]
ideas = 200
difficulty = "beta(alpha=0.4, beta=3)"
value = "lognormal(mu=0.02, sigma=0.01)"

[[lab]]
name = "big"
budget = 300.0
growth = 0.2
policy = "patience(m=3)"

[[lab]]
name = "small"
budget = 100.0
"""

KORTUM = """
seed = 1
replicates = 300
periods = 10

[pool]
ideas = "inf"
difficulty = "point(p=1)"
value = "pareto(alpha=2)"
combine = "max"

[[lab]]
name = "a"
budget = 50.0

[[lab]]
name = "b"
budget = 400.0
"""


def test_labs_writes_wins_summary_periods_and_manifest(tmp_path, capsys):
    config = tmp_path / "labs.toml"
    config.write_text(CONFIG)
    out = tmp_path / "run"
    code, _, err = _run(["labs", str(config), "--out", str(out), "--no-progress"], capsys)
    assert code == 0, err
    wins, summary, periods = (_read(out / name) for name in
                              ("wins.csv", "summary.csv", "periods.csv"))
    assert {"replicate", "lab", "win", "compute", "p", "value", "multiplier"} <= set(wins[0])
    assert {"replicate", "lab", "wins", "compute", "multiplier"} <= set(summary[0])
    assert len(summary) == 3 * 2 and len(periods) == 3 * 2 * 5
    for row in summary:
        mine = [w for w in wins if w["replicate"] == row["replicate"] and w["lab"] == row["lab"]]
        assert int(row["wins"]) == len(mine)
        # Published wins of the other lab can raise the multiplier after a lab's last win.
        assert float(row["multiplier"]) >= float(mine[-1]["multiplier"]) * (1 - 1e-12)
        assert float(mine[-1]["compute"]) <= float(row["compute"])
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["command"] == "labs" and meta["simsearch_version"] == __version__
    assert meta["seed_entropy"] == 4 and meta["config"]["seed"] == 4
    assert meta["config"]["lab"][0]["policy"] == "patience(m=3)"
    assert meta["config"]["pool"]["difficulty"] == "beta(alpha=0.4, beta=3)"

    # Overrides, and the same seed gives the same bytes.
    again = tmp_path / "again"
    code, _, _ = _run(["labs", str(config), "--out", str(again), "--replicates", "3",
                       "--seed", "4", "--no-progress"], capsys)
    assert code == 0
    assert (again / "wins.csv").read_bytes() == (out / "wins.csv").read_bytes()
    other = tmp_path / "other"
    _run(["labs", str(config), "--out", str(other), "--seed", "5", "--replicates", "2",
          "--no-wins", "--no-progress"], capsys)
    assert not (other / "wins.csv").exists()
    assert len(_read(other / "summary.csv")) == 4


def test_labs_estimate_prints_r_lambda_phi_with_intervals(tmp_path, capsys):
    config = tmp_path / "kortum.toml"
    config.write_text(KORTUM)
    code, out, err = _run(["labs", str(config), "--out", str(tmp_path / "k"), "--estimate",
                           "--bootstrap", "100", "--no-wins", "--no-progress"], capsys)
    assert code == 0, err
    for name in ("r =", "lambda =", "phi =", "95%", "theory 0.5"):
        assert name in out
    rows = {row["quantity"]: row for row in _read(tmp_path / "k" / "estimates.csv")}
    r = rows["r"]
    assert float(r["low"]) < float(r["estimate"]) < float(r["high"])
    assert float(r["low"]) < 0.5 < float(r["high"]) or abs(float(r["estimate"]) - 0.5) < 0.03
    assert float(rows["phi"]["theory"]) == -1.0


BAD = [
    ("[pool]\nideas = 10\n", "pool.difficulty: missing"),
    ("[pool]\nideas = 10\ndifficulty = 'beta(alpha=1, beta=1)'\n", "lab: at least one"),
    ("[pool]\nideas = 10\ndifficulty = 'beta(alpha=1, beta=1)'\n[[lab]]\nbudget = 'lots'\n",
     "lab[0].budget: must be a finite number > 0"),
    ("[pool]\nideas = 10\ndifficulty = 'beta(alpha=1, beta=1)'\n[[lab]]\nbudget = 1\n"
     "policy = 'random'\n", "lab[0].policy: must be one of round-robin, patience"),
    ("sharing = -0.1\n[pool]\nideas = 10\ndifficulty = 'point(p=0.5)'\n[[lab]]\nbudget = 1\n",
     "sharing: must be a finite number >= 0 and <= 1"),
    ("[pool\n", "not valid TOML"),
    ("[pool]\nideas = 10\ndifficulty = 'point(p=0.5)'\n[[lab]]\nbudget = 1\n"
     "[loss]\ntraining_flop = 'big'\n", "loss.training_flop: must be a finite number > 0"),
    ("[pool]\nideas = 10\ndifficulty = 'point(p=0.5)'\n[[lab]]\nbudget = 1\n"
     "[loss]\ntraining_flop = 1" + "0" * 400 + "\n", "loss.training_flop: must be a finite"),
    ("[pool]\nideas = 10\ndifficulty = 'point(p=0.5)'\n[[lab]]\nbudget = 1" + "0" * 400
     + ".0\n", "lab[0].budget: must be a finite number > 0"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m for _, m in BAD])
def test_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    out = tmp_path / "out"
    code, _, err = _run(["labs", str(config), "--out", str(out), "--no-progress"], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_missing_config_and_bad_output_directory(tmp_path, capsys):
    code, _, err = _run(["labs", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")],
                        capsys)
    assert code == 2 and "not found" in err
    config = tmp_path / "labs.toml"
    config.write_text(CONFIG)
    afile = tmp_path / "file"
    afile.write_text("x")
    code, _, err = _run(["labs", str(config), "--out", str(afile)], capsys)
    assert code == 2 and "not a directory" in err
    code, _, err = _run(["labs", str(config), "--out", ""], capsys)
    assert code == 2 and "empty path" in err and len(err.strip().splitlines()) == 1


def test_out_is_made_with_its_parents_and_an_earlier_run_is_never_mixed_in(tmp_path, capsys):
    config = tmp_path / "labs.toml"
    config.write_text(CONFIG)
    out = tmp_path / "runs" / "deep" / "x"
    code, _, err = _run(["labs", str(config), "--out", str(out), "--no-progress"], capsys)
    assert code == 0, err
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"wins.csv", "summary.csv", "periods.csv", "doublings.csv", "explosion.csv",
            "manifest.json"} == set(first)

    # A directory holding an earlier run is refused, untouched, without --overwrite.
    code, _, err = _run(["labs", str(config), "--out", str(out), "--seed", "9", "--no-wins",
                         "--no-progress"], capsys)
    assert code == 2 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first

    # With it, the new run replaces the old one whole: no stale wins.csv beside its manifest.
    code, _, err = _run(["labs", str(config), "--out", str(out), "--seed", "9", "--no-wins",
                         "--no-progress", "--overwrite"], capsys)
    assert code == 0, err
    tables = ["doublings.csv", "explosion.csv", "periods.csv", "summary.csv"]
    assert sorted(p.name for p in out.iterdir()) == sorted(tables + ["manifest.json"])
    meta = read_manifest(out)
    assert meta["seed_entropy"] == 9 and sorted(meta["files"]) == tables


def test_estimate_needs_three_periods(tmp_path, capsys):
    config = tmp_path / "labs.toml"
    config.write_text(CONFIG.replace("periods = 5", "periods = 2"))
    code, _, err = _run(["labs", str(config), "--out", str(tmp_path / "o"), "--estimate"],
                        capsys)
    assert code == 2 and "periods: --estimate needs at least 3 periods" in err
    assert not (tmp_path / "o").exists()


def test_csv_floats_round_trip(tmp_path, capsys):
    config = tmp_path / "labs.toml"
    config.write_text(CONFIG)
    _run(["labs", str(config), "--out", str(tmp_path / "o"), "--no-progress"], capsys)
    from simsearch.labs import load_labs_config, simulate_labs

    result = simulate_labs(load_labs_config(config))
    rows = _read(tmp_path / "o" / "wins.csv")
    np.testing.assert_array_equal([float(r["compute"]) for r in rows], result.wins["compute"])
    np.testing.assert_array_equal([float(r["multiplier"]) for r in rows],
                                  np.exp(result.wins["log_multiplier"]))


SLOW = """
seed = 2
replicates = 100000
periods = 4

[pool]
ideas = 20000
difficulty = "beta(alpha=0.3, beta=3)"

[[lab]]
name = "a"
budget = 2e5
"""


@pytest.mark.parametrize("signum, code, word", [("SIGINT", 130, "interrupted"),
                                                ("SIGTERM", 143, "terminated")])
def test_signal_exits_at_once_and_keeps_finished_replicates(tmp_path, request, signum, code,
                                                            word):
    """SIGINT (exit 130) or SIGTERM (exit 143) mid-run: exit within a second or so, and the
    output holds the replicates finished before it, with a manifest that reproduces them."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import threading
    import time

    import simsearch
    from simsearch.labs import load_labs_config, simulate_labs

    config = tmp_path / "slow.toml"
    config.write_text(SLOW)
    simulate_labs(load_labs_config(config), replicates=1)  # compiled kernels in the cache
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "simsearch", "labs", str(config), "--out",
                             str(out), "--threads", "1", "--no-wins", "--max-events", "1e12"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
                            # the simsearch under test, whatever the child's directory
                            env={**os.environ,
                                 "PYTHONPATH": str(Path(simsearch.__file__).parents[1])},
                            preexec_fn=default_sigint)
    request.addfinalizer(proc.kill)  # never left running, whatever fails below
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(
        lambda: os.read(proc.stderr.fileno(), 4096), b"")))
    reader.start()
    deadline = time.monotonic() + 120
    # Wait for the progress bar (redrawn in place, no newlines) to count some replicates.
    counted = re.compile(rb"\| *[1-9]\d*/100000")
    while (time.monotonic() < deadline and proc.poll() is None
           and not counted.search(b"".join(chunks))):
        time.sleep(0.05)
    proc.send_signal(getattr(signal, signum))
    sent = time.monotonic()
    exit_code = proc.wait(timeout=60)
    waited = time.monotonic() - sent
    reader.join()
    err = b"".join(chunks).decode()
    assert exit_code == code, err
    assert waited < 3.0 * load_factor(), f"took {waited:.1f} s to act on {signum}"
    meta = read_manifest(out)  # every table matches its SHA-256: nothing half-written
    assert list(out.rglob("*.tmp")) == []
    assert meta["interrupted"] is True
    kept = meta["config"]["replicates"]
    assert 0 < kept < 100000
    summary = _read(out / "summary.csv")
    assert len(summary) == kept
    again = simulate_labs(load_labs_config(config), replicates=kept, seed=2)
    np.testing.assert_array_equal([float(r["compute"]) for r in summary],
                                  again.periods["cumulative_compute"][:, 0, -1])
    assert f"{word}; kept the" in err


@pytest.mark.parametrize("text", [CONFIG, KORTUM.replace("replicates = 300", "replicates = 3")],
                         ids=["pool", "stream"])
def test_to_pandas_gives_what_pandas_reads_from_the_csv(tmp_path, capsys, text):
    pandas = pytest.importorskip("pandas")
    from simsearch.labs import labs_config, simulate_labs
    import tomllib

    config = tmp_path / "labs.toml"
    config.write_text(text)
    out = tmp_path / "run"
    assert _run(["labs", str(config), "--out", str(out), "--no-progress"], capsys)[0] == 0
    result = simulate_labs(labs_config(tomllib.loads(text)), progress=False)
    for table in ("summary", "periods", "wins"):
        frame = result.to_pandas(table)
        pandas.testing.assert_frame_equal(frame, pandas.read_csv(out / f"{table}.csv"),
                                          check_dtype=False, rtol=1e-15)
    with pytest.raises(ValueError, match="table: must be one of summary, periods, wins"):
        result.to_pandas("estimates")
