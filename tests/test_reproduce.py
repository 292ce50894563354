"""`simsearch reproduce --quick` regenerates every figure, with its data and manifest."""

import json
from pathlib import Path

import pytest

from simsearch.cli import main
from simsearch.cli.reproduce import EXPERIMENTS


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_reproduce_quick_writes_every_figure_and_its_data(tmp_path, capsys, name):
    """Each experiment on its own (``--only``), so that the test runner can spread the
    experiments over its workers: the figure in PNG and PDF, its data and manifest, and
    nothing of another experiment."""
    assert main(["reproduce", "--quick", "--figures", str(tmp_path), "--no-progress",
                 "--only", name]) == 0
    out = capsys.readouterr().out
    if name == "real_data_backtest" and "skipped" in out:
        pytest.skip("needs ../shared/data, which a clean checkout does not have")
    for suffix in (".png", ".pdf", ".csv", ".csv.json"):
        path = tmp_path / f"{name}{suffix}"
        assert path.is_file() and path.stat().st_size > 0, path
    meta = json.loads((tmp_path / f"{name}.csv.json").read_text())
    assert meta["simsearch_version"] and "config" in meta
    assert name in out
    assert all(p.name.startswith(name) for p in tmp_path.iterdir()), list(tmp_path.iterdir())
    assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reproduce_only_rejects_unknown_names(capsys):
    assert main(["reproduce", "--only", "scaling_law,nonsense"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'nonsense'" in err and len(err.strip().splitlines()) == 1


def _captured(monkeypatch):
    import simsearch.cli.reproduce as reproduce

    calls = []
    monkeypatch.setattr(reproduce, "run_experiments",
                        lambda names, **kw: calls.append((names, kw)) or [])
    return calls


def test_quick_never_defaults_to_the_checkouts_figures(tmp_path, monkeypatch):
    from pathlib import Path

    calls = _captured(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "--quick", "--only", "scaling_law", "--no-progress"]) == 0
    figures = calls[-1][1]["figures"]
    assert figures == tmp_path / "figures-quick"
    checkout = Path(__file__).resolve().parent.parent / "figures"
    assert figures != checkout.resolve()
    # asked for explicitly, the checkout's figures/ is allowed
    assert main(["reproduce", "--quick", "--only", "scaling_law", "--figures", str(checkout),
                 "--no-progress"]) == 0
    assert calls[-1][1]["figures"] == checkout.resolve()


@pytest.mark.parametrize("only", ["", ",", "scaling_law,", " "])
def test_an_empty_only_is_an_error(tmp_path, monkeypatch, capsys, only):
    calls = _captured(monkeypatch)
    assert main(["reproduce", "--only", only, "--figures", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "only: give experiment names" in err and len(err.strip().splitlines()) == 1
    assert calls == []


@pytest.mark.parametrize("where", ["file", "proc", "missing_parent"])
def test_an_unusable_figures_directory_is_one_line(tmp_path, monkeypatch, capsys, where):
    calls = _captured(monkeypatch)
    (tmp_path / "file").write_text("keep")
    figures = {"file": tmp_path / "file", "proc": "/proc/figures",
               "missing_parent": tmp_path / "no" / "figs"}[where]
    assert main(["reproduce", "--quick", "--figures", str(figures)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("simsearch reproduce: error: figures:")
    assert len(err.strip().splitlines()) == 1 and calls == []
    assert (tmp_path / "file").read_text() == "keep"


def test_an_installed_package_outside_a_checkout_says_what_to_do(tmp_path, monkeypatch,
                                                                  capsys):
    """Installed from a wheel, the package has no experiments/ beside it; run elsewhere than
    a checkout's top directory, reproduce says so in one line and writes nothing."""
    import simsearch.cli.reproduce as reproduce

    site = tmp_path / "site-packages" / "simsearch"
    monkeypatch.setattr(reproduce, "__file__", str(site / "reproduce.py"))
    monkeypatch.chdir(tmp_path)
    figures = tmp_path / "figs"
    assert main(["reproduce", "--quick", "--figures", str(figures), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "top directory of a source checkout" in err, err
    assert not figures.exists()


def test_real_data_backtest_draws_every_method_distinguishably(monkeypatch):
    """Issue 22: line, floor, line-or-floor and line-or-q1-floor predict one curve on most
    models and were drawn as plain solid lines under one thick one; each method now has its
    own dash pattern and marker, the markers staggered along k."""
    import importlib

    experiments = Path(__file__).resolve().parent.parent / "experiments"
    monkeypatch.syspath_prepend(str(experiments))
    script = importlib.import_module("real_data_backtest")
    methods = script.CURVE_METHODS + ["zi-beta", "beta"]
    styles = [script._method_style(i, m) for i, m in enumerate(methods)]
    others = [s for s, m in zip(styles, methods) if m != script.DEFAULT_METHOD]
    assert len({(str(s["ls"]), s["marker"]) for s in others}) == len(others)
    assert len({s["markevery"][0] for s in styles}) == len(styles)
    default = styles[methods.index(script.DEFAULT_METHOD)]
    assert default["zorder"] < min(s["zorder"] for s in others)  # the wide band underneath
