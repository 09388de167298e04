"""Case folders: a BagIt bag holding extracted artefacts, a SQLite store, and a hash-chained custody log."""
