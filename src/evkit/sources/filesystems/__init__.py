"""Filesystems read through pytsk3 (TSK) and pyfsapfs (APFS)."""
