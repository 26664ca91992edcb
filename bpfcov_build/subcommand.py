"""How a bpfcov subcommand is declared: one help line, examples, the shared options."""

from __future__ import annotations

import argparse

__all__ = ["Subparsers", "add"]

Subparsers = argparse._SubParsersAction


def add(
    sub: Subparsers[argparse.ArgumentParser],
    name: str,
    help_text: str,
    epilog: str,
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """A subcommand whose --help is its help line, its options, then ``epilog`` as written."""
    return sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=epilog,
        parents=parents,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
