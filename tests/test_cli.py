"""The command line: output contract, manifests, and clean failure on bad input."""

import contextlib
import csv
import json
import os
import signal
import subprocess
import tempfile
import sys
import time

import numpy as np
import pytest

from simsearch import Beta, __version__
from simsearch.cli import main


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exits
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_passk_writes_the_contract_columns_and_a_manifest(tmp_path, capsys):
    out = tmp_path / "passk.csv"
    code, _, _ = _run(["passk", "--dist", "beta(alpha=0.3, beta=3)", "--problems", "400000",
                       "--k", "1,10,100,1000", "--seed", "11", "--out", str(out)], capsys)
    assert code == 0
    rows = _read_csv(out)
    assert list(rows[0]) == ["k", "pass_at_k", "neg_log_pass_at_k", "expected_pass_at_k",
                             "expected_neg_log_pass_at_k", "stderr"]
    assert [int(r["k"]) for r in rows] == [1, 10, 100, 1000]
    exact = Beta(0.3, 3).expected_pass_at_k(np.array([1, 10, 100, 1000]))
    for row, e in zip(rows, exact):
        assert float(row["expected_pass_at_k"]) == pytest.approx(e, rel=1e-12)
        assert abs(float(row["pass_at_k"]) - e) < 5 * float(row["stderr"])
        assert float(row["neg_log_pass_at_k"]) == pytest.approx(-np.log(float(row["pass_at_k"])))
    meta = json.loads((tmp_path / "passk.csv.json").read_text())
    assert meta["config"] == {"dist": "beta(alpha=0.3, beta=3)", "problems": 400000,
                              "k": [1, 10, 100, 1000], "replicates": 1, "seed": 11}
    assert meta["simsearch_version"] == __version__ and meta["seed_entropy"] == 11
    assert meta["tail_exponent"] == 0.3 and meta["chunk_size"] > 0


def test_replicates_logspace_and_stdout(capsys):
    code, out, _ = _run(["passk", "--dist", "kumaraswamy(a=0.5, b=2, scale=0.4)",
                         "--problems", "1000", "--k", "logspace:1:1e6:7", "--replicates", "3",
                         "--seed", "1"], capsys)
    assert code == 0
    rows = list(csv.DictReader(out.splitlines()))
    assert [int(r["replicate"]) for r in rows] == [r for r in range(3) for _ in range(7)]
    assert [int(r["k"]) for r in rows[:7]] == [10**i for i in range(7)]


def test_pass_at_k_is_solved_over_problems_without_arithmetic_artefacts(capsys):
    """Issue 22: pass@k was 1 - fail/problems, which printed 9093 of 100000 as
    0.09092999999999996; solved/problems is one correctly rounded division, so with 10^5
    problems every value has at most five decimals (and is exactly that fraction)."""
    code, out, _ = _run(["passk", "--dist", "beta(alpha=0.3, beta=3)", "--problems", "100000",
                         "--k", "1,10,100,1000", "--replicates", "3", "--seed", "11",
                         "--no-progress"], capsys)
    assert code == 0
    values = [row["pass_at_k"] for row in csv.DictReader(out.splitlines())]
    assert len(values) == 12
    for text in values:
        assert float(text) == round(float(text), 5) and len(text) <= len("0.12345"), text


def test_dist_accepts_the_hyphenated_spelling_of_prose(capsys):
    """Issue 22: ``--dist "logit-normal(...)"`` failed while prose and legends say
    "logit-normal"; it now runs the registered family, to the same bytes."""
    runs = [_run(["passk", "--dist", f"{name}(mu=-2, sigma=1.5)", "--problems", "1000",
                  "--k", "1,100", "--seed", "1", "--no-progress"], capsys)
            for name in ("logit-normal", "logitnormal")]
    assert runs[0][0] == 0 and runs[0][1] == runs[1][1]


def test_per_problem_output(tmp_path, capsys):
    pp = tmp_path / "problems.csv"
    code, _, _ = _run(["passk", "--dist", "point(p=0.25)", "--problems", "500", "--k", "1,4",
                       "--seed", "3", "--per-problem", str(pp), "--out",
                       str(tmp_path / "a.csv")], capsys)
    assert code == 0
    rows = _read_csv(pp)
    assert len(rows) == 500 and list(rows[0]) == ["replicate", "problem", "p", "first_success"]
    times = np.array([float(r["first_success"]) for r in rows])
    summary = _read_csv(tmp_path / "a.csv")
    assert float(summary[1]["pass_at_k"]) == pytest.approx(np.mean(times <= 4), rel=1e-12)


def _module(*args, **env):
    # Outside the checkout, so `-m simsearch` imports the installed package, not ./simsearch.
    return subprocess.run([sys.executable, "-m", "simsearch", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=600,
                          cwd=tempfile.gettempdir())


def test_python_dash_m_and_thread_count_invariance(tmp_path):
    args = ["passk", "--dist", "mixture(0.6*beta(alpha=0.3, beta=3), 0.4*point(p=0.5))",
            "--problems", "200000", "--k", "logspace:1:1e4:9", "--seed", "5", "--no-progress"]
    one = _module(*args, "--threads", "1", "--out", str(tmp_path / "one.csv"))
    assert one.returncode == 0, one.stderr
    if os.cpu_count() and os.cpu_count() >= 2:
        two = _module(*args, "--threads", "2", "--out", str(tmp_path / "two.csv"))
        assert two.returncode == 0, two.stderr
        assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


BAD = [
    (["--dist", "betta(alpha=1, beta=2)"], "unknown distribution 'betta'"),
    (["--dist", "beta(alpha=-1, beta=3)"], "beta: alpha must be a number in (0, inf)"),
    (["--dist", "beta(alpha=1)"], "missing parameter 'beta'"),
    (["--dist", "mixture(0.5*point(p=0.1), 0.6*point(p=0.2))"], "weights must sum to 1"),
    (["--dist", "beta(1, 2)", "--k", "0,10"], "k: attempts must be integers in [1,"),
    (["--dist", "beta(1, 2)", "--k", "logspace:1:x:3"], "k: cannot read"),
    (["--dist", "beta(1, 2)", "--k", "nan"], "k: attempts must be integers"),
    (["--dist", "beta(1, 2)", "--problems", "0"], "--problems: expected an integer >= 1"),
    (["--dist", "beta(1, 2)", "--problems", "lots"], "--problems: expected an integer >= 1"),
    (["--dist", "beta(1, 2)", "--replicates", "-2"], "--replicates: expected an integer >= 1"),
    (["--dist", "beta(1, 2)", "--seed", "-1"], "--seed: expected an integer >= 0"),
    (["--dist", "beta(1, 2)", "--threads", "999"], "threads: must be an integer in [1,"),
    (["--problems", "10"], "the following arguments are required: --dist"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[m for _, m in BAD])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out.csv"
    code, stdout, stderr = _run(["passk", *args, "--out", str(out)], capsys)
    assert code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination_fails_before_simulating(tmp_path, capsys):
    code, _, err = _run(["passk", "--dist", "beta(1, 2)", "--out",
                         str(tmp_path / "missing" / "x.csv")], capsys)
    assert code == 2 and "out: directory" in err and "does not exist" in err
    code, _, err = _run(["passk", "--dist", "beta(1, 2)", "--out", str(tmp_path)], capsys)
    assert code == 2 and "is a directory" in err


def test_bad_input_through_the_real_process_has_no_traceback():
    proc = _module("passk", "--dist", "beta(alpha=0, beta=1)")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("simsearch passk: error: beta: alpha must be a number in "
                                   "(0, inf) (got 0)")


# --- issue 13: sizes and numbers out of range, signals -----------------------------------

TOO_BIG = [
    (["--problems", "1e18"], "need about"),
    (["--problems", "1e300"], "need about"),
    (["--problems", "1e12", "--per-problem", "PP"], "per-problem: the table would take about"),
    (["--dist", "beta(alpha=" + "1" * 400 + ", beta=3)"], "alpha must be a number in (0, inf)"),
    (["--dist", "point(p=" + "9" * 400 + ")"], "p must be a number in [0, 1]"),
    (["--out", "/proc/x.csv"], "out: cannot write in directory '/proc'"),
]


@pytest.mark.parametrize("args,message", TOO_BIG, ids=[m for _, m in TOO_BIG])
def test_out_of_range_sizes_and_numbers_exit_2_in_one_line(tmp_path, capsys, args, message):
    args = [a.replace("PP", str(tmp_path / "pp.csv")) for a in args]
    if "--dist" not in args:
        args = ["--dist", "beta(0.3, 3)", *args]
    code, _, err = _run(["passk", *args, "--no-progress"], capsys)
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_huge_alpha_is_exact_and_passk_agrees_with_it(capsys):
    import mpmath as mp

    mp.mp.dps = 350  # enough to resolve beta beside alpha = 1e300
    for alpha, beta, k in [(1e14, 3, 1), (1e16, 3, 1), (1e16, 3, 10), (1e300, 0.5, 7),
                           (2.5, 1e15, 1e12), (0.3, 3, 2.0**53), (1e8, 1e8, 1e8)]:
        a, b, kk = mp.mpf(alpha), mp.mpf(beta), mp.mpf(k)
        exact = mp.exp(mp.loggamma(b + kk) + mp.loggamma(a + b) - mp.loggamma(b)
                       - mp.loggamma(a + b + kk))
        got = Beta(alpha, beta).expected_failure(k)
        # relative error within the condition number |log E| of exp, in float64 ulps
        tol = 64 * np.finfo(float).eps * max(1.0, abs(float(mp.log(exact))) if exact else 1.0)
        assert abs(got - float(exact)) <= tol * float(exact) + 1e-300, (alpha, beta, k)
    code, out, _ = _run(["passk", "--dist", "beta(alpha=1e16, beta=3)", "--problems", "1000",
                         "--k", "1,10", "--seed", "1", "--no-progress"], capsys)
    rows = list(csv.DictReader(out.splitlines()))
    assert code == 0 and [float(r["expected_pass_at_k"]) for r in rows] == [1 - 3e-16, 1.0]
    assert [float(r["pass_at_k"]) for r in rows] == [1.0, 1.0]


def test_passk_prints_no_runtime_warnings(capsys):
    import warnings

    for dist in ["point(p=0)", "point(p=1)", "beta(alpha=1e-300, beta=1e300)",
                 "logitnormal(mu=-700, sigma=0.001)", "empirical(values=[0, 1])"]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, _, err = _run(["passk", "--dist", dist, "--problems", "100", "--k",
                                 "1,1e15", "--seed", "1", "--no-progress"], capsys)
        assert code in (0, 2) and "Warning" not in err, (dist, err)
        assert [str(w.message) for w in caught] == [], dist


def default_sigint() -> None:
    """``preexec_fn`` of a child that a test interrupts: SIGINT back to its default. A shell
    starts background jobs (a CI script run with ``&``, ``nohup``) with SIGINT ignored, the
    children inherit that, and Python then installs no KeyboardInterrupt handler: the signal
    would be lost and the child left running."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def load_factor() -> float:
    """How many times slower than idle this machine runs now (runnable processes per core, at
    least 1): bounds on how promptly a process acts are scaled by it, so they hold on a 2-core
    machine running other work too."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_passk_acts_on_a_signal_promptly_and_writes_nothing(tmp_path, request, signum,
                                                            code):
    import fcntl
    import pty
    import re
    import select
    import struct
    import termios

    from simsearch.sampling import simulate_pass_at_k

    simulate_pass_at_k("beta(alpha=0.3, beta=3)", [1, 10], 1000)  # compiled kernels cached
    # 3e9 problems on one thread take minutes. stderr is a terminal, so the progress bar is
    # drawn: once it counts problems, the run is surely simulating when the signal comes.
    leader, follower = pty.openpty()
    # a terminal of 120 columns: tqdm draws nothing on one of 0 columns, a new pty's size
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "simsearch", "passk", "--dist", "beta(0.3, 3)", "--problems",
         "3e9", "--k", "1,10,100", "--seed", "1", "--threads", "1",
         "--out", str(tmp_path / "p.csv")],
        stdout=subprocess.DEVNULL, stderr=follower, cwd=tmp_path, preexec_fn=default_sigint)
    request.addfinalizer(proc.kill)  # never left running, whatever fails below
    os.close(follower)
    seen, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline and not re.search(rb"pass@k: +\d+%.*\| *[1-9]", seen):
        if select.select([leader], [], [], 0.5)[0]:
            seen += os.read(leader, 4096)
    assert proc.poll() is None, seen
    start = time.monotonic()
    proc.send_signal(signum)
    proc.wait(timeout=60)
    took = time.monotonic() - start
    with contextlib.suppress(OSError):  # what it printed after the signal
        while select.select([leader], [], [], 0.5)[0] and (chunk := os.read(leader, 4096)):
            seen += chunk
    os.close(leader)
    err = seen.decode(errors="replace")
    print(f"passk, signal {signum}: exit {proc.returncode} after {took:.2f} s")
    assert proc.returncode == code and "Traceback" not in err, err
    assert took < 5 * load_factor(), f"took {took:.1f} s to act on the signal"
    assert list(tmp_path.iterdir()) == []


def test_parser_does_not_import_the_fitting_modules():
    # `simsearch --help` and passk must not pay for SciPy's special functions and optimisers,
    # which only fit and backtest need (they import them in their handlers).
    code = ("import sys, simsearch.cli as c; c.build_parser(); "
            "print([m for m in ('scipy.optimize', 'scipy.special', 'simsearch.fitting.estimators', "
            "'simsearch.fitting') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_method_and_family_exit_2_with_one_line(tmp_path, capsys):
    counts = tmp_path / "c.csv"
    counts.write_text("successes,attempts\n0,10\n3,10\n1,10\n")
    for args, field in ((["--method", "nope"], "method:"), (["--dist", "nope"], "dist:")):
        code, _, err = _run(["fit", str(counts), *args], capsys)
        assert code == 2 and field in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
