"""A bounded fuzzing harness for evkit's readers: mutated evidence and profiles through the CLI.

Each case takes a seed file (a sample image, archive, database or profile), mutates it from a
numbered random generator (byte flips, boundary values written over 1-8-byte fields, truncation)
and runs the commands that read that kind of input. A finding is a traceback or "internal error"
on stderr, an exit code outside the documented ones (0-4), or a run past its time limit (a hang).
Case N of seed S is always the same mutation, so a finding is replayed with
``python -m tests.fuzz --seed S --replay N``. ``--minutes`` bounds a longer run.
"""
