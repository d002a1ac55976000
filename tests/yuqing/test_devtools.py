"""The demo site and the benchmarks are yuqing-devtools' (devtools/), never the service's: the commands
that use them import them lazily and, where the distribution is not installed, say how to install it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from yuqing.cli import build_parser, main


@pytest.fixture
def without_devtools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As in the service's image: neither ``demo_site`` nor ``bench`` can be imported."""
    for name in [name for name in sys.modules if name.split(".")[0] in {"demo_site", "bench"}]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "demo_site", None)  # None in sys.modules: "not importable"
    monkeypatch.setitem(sys.modules, "bench", None)
    monkeypatch.setenv("YUQING_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize(
    ("argv", "package"),
    [
        (["up", "--demo"], "demo_site"),
        (["demo-site", "--port", "0"], "demo_site"),
        (["bench", "pipeline", "--posts", "10"], "bench"),
        (["bench"], "bench"),
    ],
    ids=["up-demo", "demo-site", "bench-area", "bench-alone"],
)
@pytest.mark.usefixtures("without_devtools")
def test_a_command_that_needs_devtools_names_the_install_command(
    argv: list[str], package: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"未安装开发工具包 yuqing-devtools（缺少 {package}）" in err
    assert f"{sys.executable} -m pip install --no-deps -e ./devtools" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("without_devtools")
def test_the_service_without_devtools_still_parses_every_other_command() -> None:
    args = build_parser().parse_args(["crawl", "--only", "demo-liuyan"])
    assert args.only == "demo-liuyan"


def test_with_devtools_installed_bench_has_one_subcommand_per_area() -> None:
    import bench

    parser = build_parser()
    for area in ("pipeline", "crawl", "archive"):
        assert parser.parse_args(["bench", area]).bench_command == area
    assert Path(bench.__file__).resolve().parent.parent.name == "devtools"


def test_every_bench_help_renders(capsys: pytest.CaptureFixture[str]) -> None:
    # argparse formats help strings with %: a bare "%" in one benchmark's help broke `yuqing bench --help`.
    from yuqing.cli import build_parser

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["bench", "--help"])
    assert exited.value.code == 0
    assert "accuracy" in capsys.readouterr().out
