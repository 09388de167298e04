"""``evkit batch``: parallel jobs, one broken, skip and retry on re-run, kill and resume, --fail-fast,
bad job files, CSV, a Dask LocalCluster, and the terminal display."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EVKIT, assert_one_line_error, evkit

bagit = pytest.importorskip("bagit", reason="bagit-python (test dependency) is not installed")


@pytest.fixture(scope="module")
def sms_dir(corpus: Path) -> Path:
    """A folder holding an Android SMS database (read-only corpus: never written to)."""
    path = corpus / "chat" / "android_sms_plaso"
    if not (path / "mmssms.db").is_file():
        pytest.skip(f"{path}/mmssms.db not in the corpus")
    return path


@pytest.fixture(scope="module")
def many_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ext4 image of 4,000 small files: extracting it takes a few seconds, long enough to kill."""
    if shutil.which("mke2fs") is None:
        pytest.skip("mke2fs (e2fsprogs) is needed to build the slow job's image")
    base = tmp_path_factory.mktemp("many")
    tree = base / "tree"
    for i in range(4000):
        d = tree / f"d{i // 100:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.txt").write_bytes(bytes([i % 251]) * 64 * (1 + i % 50))
    image = base / "many.raw"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-N", "4200", "-d", str(tree), str(image), "64M"], check=True)
    return image


def _write(path: Path, jobs: list[dict[str, Any]], **top: Any) -> Path:
    path.write_text(yaml.safe_dump({"cases_dir": "cases", "examiner": "Jo Examiner", **top, "jobs": jobs}))
    return path


def _batch(jobs: Path, *args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any]]:
    proc = evkit("batch", "--json", str(jobs), *args, timeout=timeout)
    assert proc.returncode in (0, 4), proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    return proc, json.loads(proc.stdout)


def _statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {j["case_number"]: j["status"] for j in doc["jobs"]}


def _artefacts(case: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{case / 'case.db'}?mode=ro", uri=True)
    rows = sorted(con.execute("SELECT locator, path, stored_path, size, md5, sha256, seq FROM artefacts").fetchall())
    con.close()
    return rows


def _actions(case: Path) -> list[str]:
    return [json.loads(line)["action"] for line in (case / "custody.jsonl").read_text().splitlines()]


def _intact(case: Path) -> None:
    proc = evkit("verify", "--json", str(case))
    assert proc.returncode == 0, json.loads(proc.stdout)["problems"]
    bagit.Bag(str(case)).validate()


def _three_jobs(folder: Path, samples: Path, sms_dir: Path) -> Path:
    """Two good jobs (one with two evidence items) and one whose source does not exist."""
    folder.mkdir(exist_ok=True)
    return _write(folder / "jobs.yaml", [
        {"case_number": "EVK-1", "evidence_number": "E1", "source": [str(samples / "gpt_ext4.raw"), str(sms_dir)],
         "description": "disk and phone folder"},
        {"case_number": "EVK-2", "evidence_number": "E1", "source": "missing.raw"},
        {"case_number": "EVK-3", "evidence_number": "E7", "source": str(sms_dir), "profiles": ["android.sms"]},
    ], profiles=[], agency="Lab")


def test_three_jobs_one_broken_then_rerun(tmp_path: Path, samples: Path, sms_dir: Path) -> None:
    jobs = _three_jobs(tmp_path, samples, sms_dir)
    proc, doc = _batch(jobs, "--workers", "2")
    assert proc.returncode == 4
    assert _statuses(doc) == {"EVK-1": "ok", "EVK-2": "failed", "EVK-3": "ok"}
    one, two, three = doc["jobs"]
    assert one["evidence"] == ["E1-1", "E1-2"] and one["error"] is None and one["artefacts"] > 0
    assert three["evidence"] == ["E7"] and three["records"] == 9 and three["artefacts"] == 1
    assert str(tmp_path / "missing.raw") in two["error"] and two["step"] == "case"
    assert set(one["durations"]) == {"case", "evidence", "extract", "verify", "finish"}
    assert set(three["durations"]) == {"case", "evidence", "extract", "profiles", "verify", "finish"}
    assert all(isinstance(v, float) for v in three["durations"].values()) and three["seconds"] >= three["durations"]["extract"]
    assert doc["totals"] == {**doc["totals"], "jobs": 3, "ok": 2, "failed": 1, "skipped": 0, "cancelled": 0,
                             "artefacts": one["artefacts"] + three["artefacts"], "records": 9}
    cases = tmp_path / "cases"
    assert one["case"] == str(cases / "EVK-1")
    # A job logs into its case; one that failed before its case existed, beside where it would be.
    assert sorted(p.name for p in cases.iterdir()) == ["EVK-1", "EVK-2.log", "EVK-3"]
    assert "does not exist" in (cases / "EVK-2.log").read_text() and two["log"] == str(cases / "EVK-2.log")
    assert one["log"] == str(cases / "EVK-1" / "evkit.log") and " batch[" in (cases / "EVK-1" / "evkit.log").read_text()
    for name in ("EVK-1", "EVK-3"):
        _intact(cases / name)
        last = json.loads((cases / name / "custody.jsonl").read_text().splitlines()[-1])
        assert last["action"] == "batch-job" and last["details"]["job_sha256"] == doc["jobs"][int(name[-1]) - 1]["job_sha256"]
        assert last["command"][1:] == ["batch", "--json", str(jobs), "--workers", "2"]
    con = sqlite3.connect(cases / "EVK-1" / "case.db")
    assert [r[0] for r in con.execute("SELECT number FROM evidence ORDER BY id")] == ["E1-1", "E1-2"]
    con.close()
    err = proc.stderr.decode()
    assert "evkit: batch: [" in err and "EVK-2: FAILED at case" in err and "\x1b[" not in err

    # Re-run: finished jobs are skipped (their cases untouched), the broken one is tried again.
    custody = {n: (cases / n / "custody.jsonl").read_bytes() for n in ("EVK-1", "EVK-3")}
    proc, doc = _batch(jobs, "--workers", "2")
    assert proc.returncode == 4 and _statuses(doc) == {"EVK-1": "skipped", "EVK-2": "failed", "EVK-3": "skipped"}
    assert doc["jobs"][2]["records"] == 9 and doc["totals"]["skipped"] == 2
    assert all((cases / n / "custody.jsonl").read_bytes() == custody[n] for n in custody)

    (tmp_path / "missing.raw").symlink_to(samples / "gpt_ext4.raw")
    proc, doc = _batch(jobs)
    assert proc.returncode == 0 and _statuses(doc) == {"EVK-1": "skipped", "EVK-2": "ok", "EVK-3": "skipped"}
    _intact(cases / "EVK-2")

    # A changed definition runs again, issuing only the steps the change needs.
    spec = yaml.safe_load(jobs.read_text())
    spec["jobs"][2]["globs"] = ["*.db"]
    jobs.write_text(yaml.safe_dump(spec))
    before = _actions(cases / "EVK-3")
    proc, doc = _batch(jobs)
    assert proc.returncode == 0 and _statuses(doc) == {"EVK-1": "skipped", "EVK-2": "skipped", "EVK-3": "ok"}
    assert _actions(cases / "EVK-3") == before + ["extract", "batch-job"]
    _intact(cases / "EVK-3")


def _group_alive(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _artefact_count(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT count(*) FROM artefacts").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_killed_batch_resumes_like_a_clean_run(tmp_path: Path, many_image: Path) -> None:
    jobs = _write(tmp_path / "jobs.yaml", [{"case_number": "SLOW", "evidence_number": "E1", "source": str(many_image)}],
                  profiles=[])
    _, doc = _batch(jobs, "--cases-dir", str(tmp_path / "clean"))
    assert _statuses(doc) == {"SLOW": "ok"}
    clean = tmp_path / "clean" / "SLOW"
    expected = _artefacts(clean)
    assert len(expected) == 4000

    killed = tmp_path / "killed" / "SLOW"
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.Popen([str(EVKIT), "batch", str(jobs), "--cases-dir", str(tmp_path / "killed")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while _artefact_count(killed / "case.db") < 500:
        assert proc.poll() is None and time.monotonic() < deadline, "the batch ended before any artefact was committed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _group_alive(proc.pid):  # the workers die with the batch; none may go on writing the case
        assert time.monotonic() < deadline, "a worker outlived the killed batch"
        time.sleep(0.1)
    report = json.loads(evkit("verify", "--json", str(killed)).stdout)
    assert report["interrupted"] is not None and report["interrupted"]["action"] == "extract", report
    assert _artefact_count(killed / "case.db") < 4000

    proc2, doc = _batch(jobs, "--cases-dir", str(tmp_path / "killed"))
    assert proc2.returncode == 0 and _statuses(doc) == {"SLOW": "ok"}
    assert _artefacts(killed) == expected
    assert _actions(killed) == _actions(clean) == ["case-init", "evidence-add", "extract", "batch-job"]
    _intact(killed)


def test_killed_while_recording_completion(tmp_path: Path, samples: Path) -> None:
    """The two states a kill during the final ``batch-job`` event can leave, rebuilt by hand."""
    jobs = _write(tmp_path / "jobs.yaml", [{"case_number": "C", "evidence_number": "E1", "source": str(samples / "gpt_ext4.raw")}],
                  profiles=[])
    _, doc = _batch(jobs)
    case = tmp_path / "cases" / "C"
    custody = case / "custody.jsonl"
    lines = custody.read_text().splitlines(keepends=True)
    last = json.loads(lines[-1])
    marker = {"action": "batch-job", "key": f"batch-job:{doc['jobs'][0]['job_sha256']}", "seq": last["seq"],
              "started": last["time"], "command": last["command"], "resuming": None}

    def forget_event_in_db() -> None:
        con = sqlite3.connect(case / "case.db")
        con.execute("DELETE FROM events WHERE seq = ?", (last["seq"],))
        con.commit()
        con.close()
        (case / "run-in-progress.json").write_text(json.dumps(marker))

    # Killed after the event was written, before its bookkeeping: finished, and the job is complete.
    forget_event_in_db()
    _, doc = _batch(jobs)
    assert _statuses(doc) == {"C": "skipped"} and _actions(case).count("batch-job") == 1
    _intact(case)
    # Killed before the event was written: the job had verified, so the event is written now.
    custody.write_text("".join(lines[:-1]))
    forget_event_in_db()
    _, doc = _batch(jobs)
    assert _statuses(doc) == {"C": "ok"} and _actions(case) == ["case-init", "evidence-add", "extract", "batch-job"]
    _intact(case)


def test_case_creation_killed_half_way(tmp_path: Path, samples: Path) -> None:
    """What ``Case.init`` leaves when killed before its custody log, or before its first event."""
    from evkit.case.store import CaseStore

    jobs = _write(tmp_path / "jobs.yaml", [
        {"case_number": "NO-LOG", "evidence_number": "E1", "source": str(samples / "gpt_ext4.raw")},
        {"case_number": "NO-EVENT", "evidence_number": "E1", "source": str(samples / "gpt_ext4.raw")},
    ], profiles=[])
    for name in ("NO-LOG", "NO-EVENT"):
        (tmp_path / "cases" / name / "data").mkdir(parents=True)
        store = CaseStore(tmp_path / "cases" / name / "case.db")
        store.set_meta({"case_number": name, "examiner": "Jo Examiner", "agency": "", "notes": ""})
        store.close()
    (tmp_path / "cases" / "NO-EVENT" / "custody.jsonl").touch()
    _, doc = _batch(jobs)
    assert _statuses(doc) == {"NO-LOG": "ok", "NO-EVENT": "ok"}
    for name in ("NO-LOG", "NO-EVENT"):
        assert _actions(tmp_path / "cases" / name) == ["case-init", "evidence-add", "extract", "batch-job"]
        _intact(tmp_path / "cases" / name)
    assert "interrupted" in (tmp_path / "cases" / "NO-LOG" / "evkit.log").read_text()


def _holder(path: Path) -> int | None:
    """The process with ``path`` open, if any."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if any(os.readlink(f"/proc/{entry}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{entry}/fd")):
                    return int(entry)
            except OSError:
                continue
    return None


def test_a_dead_worker_fails_only_its_job(tmp_path: Path, samples: Path, many_image: Path) -> None:
    jobs = _write(tmp_path / "jobs.yaml", [
        {"case_number": "SLOW", "evidence_number": "E1", "source": str(many_image)},
        {"case_number": "A", "evidence_number": "E1", "source": str(samples / "gpt_ext4.raw")},
        {"case_number": "B", "evidence_number": "E1", "source": str(samples / "gpt_ext4.raw")},
    ], profiles=[])
    db = tmp_path / "cases" / "SLOW" / "case.db"
    proc = subprocess.Popen([str(EVKIT), "batch", "--json", str(jobs), "--workers", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _artefact_count(db) < 500 or (worker := _holder(db)) is None:
        assert proc.poll() is None and time.monotonic() < deadline, "the slow job ended before it could be hit"
        time.sleep(0.05)
    assert worker != proc.pid
    os.kill(worker, signal.SIGKILL)  # as a parser crashing in C would end it
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 4, err.decode(errors="replace")
    doc = json.loads(out)
    assert _statuses(doc) == {"SLOW": "failed", "A": "ok", "B": "ok"}
    assert "worker process died" in doc["jobs"][0]["error"]
    _, doc = _batch(jobs)
    assert _statuses(doc) == {"SLOW": "ok", "A": "skipped", "B": "skipped"}
    assert doc["jobs"][0]["artefacts"] == 4000
    _intact(tmp_path / "cases" / "SLOW")


def test_fail_fast(tmp_path: Path, samples: Path, many_image: Path) -> None:
    good = {"evidence_number": "E1", "source": str(samples / "gpt_ext4.raw")}
    jobs = _write(tmp_path / "jobs.yaml", [
        {"case_number": "SLOW", "evidence_number": "E1", "source": str(many_image)},
        {"case_number": "BROKEN", "evidence_number": "E1", "source": "nowhere.raw"},
        {"case_number": "LATER", **good},
    ], profiles=[])
    proc, doc = _batch(jobs, "--workers", "2", "--fail-fast")
    assert proc.returncode == 4
    assert _statuses(doc) == {"SLOW": "ok", "BROKEN": "failed", "LATER": "cancelled"}
    assert "--fail-fast" in doc["jobs"][2]["error"] and doc["totals"]["cancelled"] == 1
    assert not (tmp_path / "cases" / "LATER").exists()

    jobs = _write(tmp_path / "one.yaml", [
        {"case_number": "BROKEN", "evidence_number": "E1", "source": "nowhere.raw"},
        {"case_number": "NEXT", **good},
    ], profiles=[], cases_dir="cases-one")
    proc, doc = _batch(jobs, "--workers", "1", "--fail-fast")
    assert proc.returncode == 4 and _statuses(doc) == {"BROKEN": "failed", "NEXT": "cancelled"}
    proc, doc = _batch(jobs, "--workers", "1")  # without --fail-fast a broken job stops nothing
    assert proc.returncode == 4 and _statuses(doc) == {"BROKEN": "failed", "NEXT": "ok"}


GOOD = {"case_number": "EVK-1", "evidence_number": "E1", "source": "a.raw"}


@pytest.mark.parametrize("top, jobs, message", [
    ({}, [GOOD, {"case_number": "EVK-2", "source": "b.raw"}],
     "job 2 (case_number EVK-2): evidence_number: required field is missing"),
    ({}, [{**GOOD, "case_number": 12}], "job 1: case_number: must be text, not the number 12; put it in quotes"),
    ({}, [GOOD, {**GOOD, "case_number": "EVK-2", "sorce": "b.raw"}], "job 2 (case_number EVK-2): sorce: unknown key"),
    ({}, [{**GOOD, "source": {"path": "a.raw"}}], "job 1 (case_number EVK-1): source: must be a list (or one text), not a mapping"),
    ({}, [{**GOOD, "globs": ["*.db", 3]}], "job 1 (case_number EVK-1): globs: item 2 must be text"),
    ({}, [{**GOOD, "profiles": ["no.such.profile"]}], "job 1 (case_number EVK-1): profiles: unknown profile 'no.such.profile'"),
    ({}, [GOOD, {**GOOD, "source": "b.raw"}], "job 2 (case_number EVK-1): case_number: EVK-1 is also job 1's"),
    ({"examiner": None}, [GOOD], "examiner: must be text, not empty"),
    ({"report": "pdf"}, [GOOD], "report: must be a list, not str"),
    ({"report": ["html", "docx"]}, [GOOD], "report: unknown report format 'docx'"),
    ({"jobs_dir": "x"}, [GOOD], "jobs_dir: unknown key"),
    ({"jobs": []}, [], "jobs: must list at least one job"),
    ({"jobs": {"case_number": "EVK-1"}}, [], "jobs: must be a list of jobs, not a mapping"),
])
def test_bad_yaml_job_file(tmp_path: Path, top: dict[str, Any], jobs: list[dict[str, Any]], message: str) -> None:
    path = tmp_path / "jobs.yaml"
    data = {"cases_dir": "cases", "examiner": "Jo", "jobs": jobs, **top}
    path.write_text(yaml.safe_dump(data))
    line = assert_one_line_error(evkit("batch", str(path)), 2)
    assert line.startswith(f"evkit: error: {path}: ") and message in line, line
    assert not (tmp_path / "cases").exists()


@pytest.mark.parametrize("text, options, message", [
    ("case_number,evidence_number,source\nEVK-1,E1,a.raw\nEVK-2,E1,\n", True,
     "job 2 (line 3, case_number EVK-2): source: required field is missing"),
    ("case_number,evidence_number,source,notes\nEVK-1,E1,a.raw,x\n", True, "unknown column 'notes'"),
    ("case_number,source\nEVK-1,a.raw\n", True, "the header has no 'evidence_number' column"),
    ("case_number,evidence_number,source\nEVK-1,E1,a.raw,extra\n", True, "job 1 (line 2, case_number EVK-1): has 4 cells"),
    ("case_number,evidence_number,source,profiles\nEVK-1,E1,a.raw,android.sms;nope\n", True,
     "job 1 (line 2, case_number EVK-1): profiles: unknown profile 'nope'"),
    ("case_number,evidence_number,source\nEVK-1,E1,a.raw\n", False, "a CSV job file needs --cases-dir and --examiner"),
])
def test_bad_csv_job_file(tmp_path: Path, text: str, options: bool, message: str) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(text)
    extra = ["--cases-dir", str(tmp_path / "cases"), "--examiner", "Jo"] if options else []
    line = assert_one_line_error(evkit("batch", str(path), *extra), 2)
    assert message in line, line
    assert not (tmp_path / "cases").exists()


def test_csv_job_file(tmp_path: Path, samples: Path, sms_dir: Path) -> None:
    (tmp_path / "jobs.csv").write_text(
        "case_number,evidence_number,source,description,profiles,globs\n"
        f"EVK-1,E1,{samples / 'gpt_ext4.raw'};{sms_dir},\"two items, one case\",android.sms,\n"
        f"EVK-2,E5,{sms_dir},,,*.db;*.txt\n")
    proc, doc = _batch(tmp_path / "jobs.csv", "--cases-dir", str(tmp_path / "cases"), "--examiner", "Jo",
                       "--profile", "android.sms")
    assert proc.returncode == 0 and _statuses(doc) == {"EVK-1": "ok", "EVK-2": "ok"}
    assert doc["jobs"][0]["evidence"] == ["E1-1", "E1-2"] and doc["jobs"][1]["evidence"] == ["E5"]
    assert doc["jobs"][0]["records"] == doc["jobs"][1]["records"] == 9
    con = sqlite3.connect(tmp_path / "cases" / "EVK-1" / "case.db")
    assert con.execute("SELECT description FROM evidence WHERE number='E1-2'").fetchone()[0] == "two items, one case"
    con.close()


def test_reports_are_written_and_not_rewritten(tmp_path: Path, sms_dir: Path) -> None:
    jobs = _write(tmp_path / "jobs.yaml", [{"case_number": "R", "evidence_number": "E1", "source": str(sms_dir)}],
                  profiles=["android.sms"], report=["csv", "timeline"])
    proc, doc = _batch(jobs)
    job = doc["jobs"][0]
    assert proc.returncode == 0 and job["status"] == "ok" and "report" in job["durations"]
    case = tmp_path / "cases" / "R"
    assert (case / "data" / "reports" / "timeline.csv").is_file() and (case / "data" / "reports" / "csv").is_dir()
    assert _actions(case) == ["case-init", "evidence-add", "extract", "profiles-run", "report", "batch-job"]
    _intact(case)
    # A changed definition that changes nothing in the case writes no second report.
    spec = yaml.safe_load(jobs.read_text())
    spec["jobs"][0]["description"] = "changed"
    jobs.write_text(yaml.safe_dump(spec))
    proc, doc = _batch(jobs)
    assert doc["jobs"][0]["status"] == "ok"
    assert _actions(case) == ["case-init", "evidence-add", "extract", "profiles-run", "report", "batch-job", "batch-job"]


def test_scheduler_local_gives_the_same_results(tmp_path: Path, samples: Path, sms_dir: Path) -> None:
    pytest.importorskip("distributed", reason="dask's distributed (evkit[cluster]) is not installed")
    jobs = _three_jobs(tmp_path, samples, sms_dir)
    _, local = _batch(jobs, "--workers", "2", "--cases-dir", str(tmp_path / "pool"))
    proc, dask = _batch(jobs, "--workers", "2", "--scheduler", "local", "--cases-dir", str(tmp_path / "dask"))
    assert proc.returncode == 4 and dask["scheduler"] == "local"
    assert _statuses(dask) == _statuses(local) == {"EVK-1": "ok", "EVK-2": "failed", "EVK-3": "ok"}
    keys = ("artefacts", "records", "evidence", "job_sha256")
    for a, b in zip(local["jobs"], dask["jobs"], strict=True):
        assert [a[k] for k in keys] == [b[k] for k in keys]
    for name in ("EVK-1", "EVK-3"):
        assert _artefacts(tmp_path / "pool" / name) == _artefacts(tmp_path / "dask" / name)
        assert _actions(tmp_path / "dask" / name) == _actions(tmp_path / "pool" / name)
        _intact(tmp_path / "dask" / name)
    proc, again = _batch(jobs, "--scheduler", "local", "--workers", "2", "--cases-dir", str(tmp_path / "pool"))
    assert _statuses(again) == {"EVK-1": "skipped", "EVK-2": "failed", "EVK-3": "skipped"}


def _on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run evkit with stderr on a pseudo-terminal; its exit code and what the terminal showed."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc = subprocess.run([str(EVKIT), *args], stdout=subprocess.DEVNULL, stderr=slave, env=env, timeout=300)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_terminal_display(tmp_path: Path, samples: Path) -> None:
    jobs = _write(tmp_path / "jobs.yaml", [
        {"case_number": "T-1", "evidence_number": "E1", "source": str(samples / "gpt_ext4.raw")},
        {"case_number": "T-2", "evidence_number": "E1", "source": "nowhere.raw"},
    ], profiles=[])
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color", "COLUMNS": "120"}
    code, shown = _on_terminal(["batch", str(jobs), "--workers", "2"], env)
    assert code == 4 and "Traceback" not in shown
    assert "all jobs" in shown and "T-1" in shown and "T-2" in shown and "FAILED at case" in shown
    assert "\x1b[32m" in shown or "\x1b[1;31m" in shown  # coloured statuses
    code, shown = _on_terminal(["batch", str(jobs), "--cases-dir", str(tmp_path / "nc")], env | {"NO_COLOR": "1"})
    assert code == 4 and "all jobs" in shown and "\x1b[32m" not in shown and "\x1b[1;31m" not in shown
    code, shown = _on_terminal(["--quiet", "batch", str(jobs), "--cases-dir", str(tmp_path / "q")], env)
    assert code == 4 and "all jobs" not in shown and "T-2" in shown and "T-1" not in shown
