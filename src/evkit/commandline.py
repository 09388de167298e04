"""evkit's own command line read before the CLI parses it: which command runs.

The CLI needs the command's name early, to build only that command (start-up time), and the case
log names the command in its records; both skip evkit's options, and the value of a global
option that takes one, the same way.
"""

from __future__ import annotations

# Global options that take a value in the next word (`--password-file FILE`).
VALUED_OPTIONS = frozenset({"--password-file"})


def command_words(argv: list[str]) -> list[str]:
    """The words after the program that are neither options nor a global option's value."""
    out = []
    words = iter(argv[1:])
    for word in words:
        if word in VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            out.append(word)
    return out
