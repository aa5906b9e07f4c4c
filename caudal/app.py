"""`tf.app` (TF1): `run`, and `flags` (the same module as `tf.flags`).

`run(main=None, argv=None)` does what TensorFlow's does: it parses the flags
of `argv` (`sys.argv` when None) tolerating flags nobody defined, which stay
in the arguments, calls `main` (by default the `main` of the `__main__`
module) with argv[0] and the remaining arguments, and exits with what `main`
returns (`sys.exit(main(argv))`: None is status 0, a string is printed to
stderr with status 1). `--help`, `--helpshort`, `-help` and `-?` print the
main module's docstring and flags to stdout, `--helpfull` every module's
flags, and exit with status 1, as absl's help flags do.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from caudal import flags

__all__ = ["flags", "run"]

_SHORT_HELP = ("--help", "-help", "--helpshort", "-helpshort", "-?")
_FULL_HELP = ("--helpfull", "-helpfull")


def usage(shorthelp: bool = True) -> str:
    """absl's usage text: the main module's docstring (or a USAGE line) and the flags' help."""
    doc = getattr(sys.modules.get("__main__"), "__doc__", None)
    program = sys.argv[0] if sys.argv else ""
    if not doc:
        doc = f"\nUSAGE: {program} [flags]\n"
    else:
        specifiers = doc.count("%") - 2 * doc.count("%%")
        try:
            doc %= (program,) * specifiers
        except (OverflowError, TypeError, ValueError):
            pass
    flag_text = flags.FLAGS.main_module_help() if shorthelp else flags.FLAGS.get_help()
    text = doc
    if flag_text:
        text += "\nflags:\n" + flag_text
    return text + "\n"


def _help_requested(argv: Sequence[str]) -> str | None:
    for arg in argv[1:]:
        if arg == "--":
            return None
        if arg in _SHORT_HELP:
            return "short"
        if arg in _FULL_HELP:
            return "full"
    return None


def run(main: Callable[[list[str]], Any] | None = None, argv: Sequence[str] | None = None) -> NoReturn:
    """Parses flags (unknown ones stay in argv), calls `main(argv)` and exits with its result."""
    main = main or sys.modules["__main__"].main
    argv = list(sys.argv if argv is None else argv)
    wanted = _help_requested(argv)
    if wanted is not None:
        sys.stdout.write(usage(shorthelp=wanted == "short"))
        if wanted == "short":
            sys.stdout.write("\nTry --helpfull to get a list of all flags.\n")
        sys.stdout.flush()
        sys.exit(1)
    remaining = flags.FLAGS(argv, known_only=True)
    sys.exit(main(remaining))
