"""``evkit tag``: an examiner's tag or note on one record, recorded as a custody event."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common


def tag(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    record_id: Annotated[int, typer.Argument(help="Record id (records.id; the first column of every report).", min=1)],
    tag_: Annotated[Optional[list[str]], typer.Option("--tag", "-t", help="Tag (repeatable).")] = None,
    note: Annotated[Optional[str], typer.Option("--note", "-n", help="Free-text note.")] = None,
    remove: Annotated[Optional[list[str]], typer.Option("--remove", "-r", help="Remove this tag from the record (repeatable; recorded in custody).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: what was recorded, with the rows as stored in case.db's tags table.")] = False,
) -> None:
    """Tag and/or annotate a record; reports show it beside the record and under "tagged items"."""
    from evkit.case.case import Case
    from evkit.errors import UsageError
    from evkit.reports.tags import tag_record, untag_record

    if remove:
        if tag_ or note is not None:
            raise UsageError("--remove cannot be combined with --tag or --note")
        with Case(case) as c:
            removed = untag_record(c, record_id, remove)
        if json_out:
            common.emit_json(removed)
        else:
            print(f"record {record_id}: {', '.join(f'[{t}]' for t in removed['removed'])} removed (custody event {removed['seq']})")
        return
    with Case(case) as c:
        result = tag_record(c, record_id, tag_, note)
        for t in result["already"]:
            common.warn(f"record {record_id} is already tagged [{t}]; not added again")
        if result["seq"] is None:
            if json_out:
                common.emit_json(result)
            return
        columns = ("id", "record_id", "tag", "note", "examiner", "time", "seq")
        result["rows"] = [dict(zip(columns, row)) for row in c.store.db.execute(
            f"SELECT {', '.join(columns)} FROM tags WHERE seq = ? ORDER BY id", (result["seq"],))]
    if json_out:
        common.emit_json(result)
    else:
        what = ", ".join(f"[{t}]" for t in result["tags"]) + (" with a note" if result["note"] else "")
        print(f"record {record_id}: {what.strip(', ') or 'note'} added (custody event {result['seq']})")
