"""``bpfcov version``: the version, the LLVM toolchains found and their plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfcov_build import __version__, subcommand, toolchain

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "main"]

HELP = "print the version, the LLVM toolchains found and their plugins"
EPILOG = "example:\n  bpfcov version      # then pick one: bpfcov-cc --bpfcov-llvm=N"


def add_parser(
    sub: subcommand.Subparsers[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    """Adds ``version`` to the subcommands."""
    subcommand.add(sub, "version", HELP, EPILOG, parents).set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Prints the version, the LLVM majors found and the plugins built."""
    del args  # no options of its own
    print(f"bpfcov {__version__}")
    plugins = set(toolchain.plugin_majors())
    for major in toolchain.installed_majors():
        plugin = f"plugin {toolchain.Toolchain(major).plugin}" if major in plugins else "no plugin"
        print(f"  LLVM {major}: clang found, {plugin}")
    return 0
