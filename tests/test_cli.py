"""The subcommand table: every command declared one way, imported only when run."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from bpfcov_build import cli


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_each_command_adds_its_parser_and_runs_its_main(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = cli.COMMANDS[name]()
    assert module.__name__ == f"bpfcov_build.cmd_{name.replace('-', '_')}"  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as done:
        cli.main([name, "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith(f"usage: bpfcov {name} ")
    assert "example" in help_text  # every command's --help teaches by example
    parser = cli._parser(name)
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sub.choices[name].get_default("func") is module.main


def test_the_whole_list_is_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert f"    {name} " in out or f"    {name}\n" in out, name


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys; from bpfcov_build import cli; cli.main(['version']); "
        "print(sorted(m for m in sys.modules if m.startswith('bpfcov_build.cmd_')))"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "['bpfcov_build.cmd_version']"
