import sys

from tests.fuzz.harness import main

raise SystemExit(main(sys.argv[1:]))
