"""evkit: read-only digital-evidence processing.

The public API lives in :mod:`evkit.api`; the CLI (:mod:`evkit.cli`) is a thin layer over it.
"""

__version__ = "0.1.0"
