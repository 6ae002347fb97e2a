"""Batch mode on small phantoms: local processes, resume, the command line, and a Dask LocalCluster
with a worker killed mid-run. Every case must end with exactly one row."""

from __future__ import annotations

import csv
import os
import signal
from pathlib import Path

import pytest

from cbct_osteo.batch import format_progress, read_manifest, run_batch
from cbct_osteo.cli import main
from cbct_osteo.indices.catalogue import csv_columns
from cbct_osteo.io.errors import LoadError


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == csv_columns()
        return list(reader)


def check_rows(rows: list[dict[str, str]], cohort: dict) -> dict[str, dict[str, str]]:
    ids = [r["case_id"] for r in rows]
    assert sorted(ids) == sorted(cohort["good"] + cohort["broken"]), "every case exactly once"
    by_id = {r["case_id"]: r for r in rows}
    for case in cohort["good"]:
        row = by_id[case]
        assert row["status"] == "ok" and row["error"] == ""
        truth = cohort["truth"][case]["sides"]
        for side in ("left", "right"):
            true_w = truth[side]["measurements"]["W"]["value"]
            assert float(row[f"{side}_W"]) == pytest.approx(true_w, abs=0.35)
            assert row[f"{side}_CTMI"] == row[f"{side}_W"]
        true_mean = (truth["left"]["measurements"]["W"]["value"] + truth["right"]["measurements"]["W"]["value"]) / 2
        assert row["mean_CTMI_category"] == ("low" if true_mean < 3.1 else "normal"), (case, true_mean)
        assert row["screening"] in ("low", "normal")
        assert row["mean_CASTRO_category"] == "definition pending verification"
        assert row["sex"] == "F"
    assert by_id["broken_landmarks"]["status"] == "error"
    assert "not valid JSON" in by_id["broken_landmarks"]["error"]
    assert by_id["missing_volume"]["status"] == "error" and "no_such_scan" in by_id["missing_volume"]["error"]
    assert by_id["missing_volume"]["left_W"] == ""
    return by_id


def test_manifest_paths_and_errors(phantom_cohort, tmp_path):
    cases = read_manifest(phantom_cohort["manifest"])
    assert [c.case_id for c in cases][:2] == ["case0", "case1"]
    assert Path(cases[0].volume) == phantom_cohort["root"] / "case0"
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,volume\nx,y\n", encoding="utf-8")
    with pytest.raises(LoadError, match="lacks landmarks"):
        read_manifest(bad)
    bad.write_text("case_id,volume,landmarks\nx,a,b\nx,c,d\n", encoding="utf-8")
    with pytest.raises(LoadError, match="line 3: case_id 'x' appears twice"):
        read_manifest(bad)


def test_local_batch_then_resume(phantom_cohort, tmp_path):
    out = tmp_path / "results.csv"
    seen = []
    summary = run_batch(
        phantom_cohort["manifest"],
        out,
        executor="local",
        workers=2,
        progress=lambda done, total, row, elapsed: seen.append((done, total, row["case_id"])),
    )
    assert (summary.ok, summary.errors, summary.skipped) == (4, 2, 0)
    assert [d for d, _, _ in seen] == list(range(1, 7)) and all(t == 6 for _, t, _ in seen)
    first = check_rows(read_rows(out), phantom_cohort)
    with pytest.raises(LoadError, match="--resume"):
        run_batch(phantom_cohort["manifest"], out)
    # Interrupt: keep the header, two finished rows and half of a third line.
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    ok_lines = [line for line in lines[1:] if ",ok," in line]
    out.write_text(lines[0] + "".join(ok_lines[:2]) + ok_lines[2][:25], encoding="utf-8")
    rerun = []
    summary = run_batch(
        phantom_cohort["manifest"],
        out,
        executor="local",
        workers=2,
        resume=True,
        progress=lambda done, total, row, elapsed: rerun.append(row["case_id"]),
    )
    assert summary.skipped == 2 and len(rerun) == 4
    second = check_rows(read_rows(out), phantom_cohort)
    for case in phantom_cohort["good"]:
        assert second[case]["left_W"] == first[case]["left_W"]
    assert "cases/min" in format_progress(3, 6, second["case0"], 30.0)


def test_batch_command(phantom_cohort, manifest_writer, tmp_path, capsys):
    root = phantom_cohort["root"]
    manifest = manifest_writer(
        root / "small_manifest.csv",
        [
            {"case_id": "case3", "volume": "case3", "landmarks": "case3/landmarks.json", "age": "63", "sex": "F"},
            {"case_id": "broken_landmarks", "volume": "case0", "landmarks": "bad_landmarks.json", "age": "", "sex": ""},
        ],
    )
    out = tmp_path / "cli.csv"
    code = main(["batch", str(manifest), "--out", str(out), "--workers", "2"])
    assert code == 1  # some cases are errors
    err = capsys.readouterr().err
    assert "[2/2]" in err and "cases/min" in err and "1 ok, 1 errors of 2 cases" in err
    rows = {r["case_id"]: r for r in read_rows(out)}
    assert rows["case3"]["status"] == "ok" and rows["broken_landmarks"]["status"] == "error"
    assert main(["batch", str(manifest), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["batch", str(manifest), "--out", str(out), "--resume"]) == 1  # only the error case is re-run
    assert "1 already done" in capsys.readouterr().err
    assert sorted(r["case_id"] for r in read_rows(out)) == ["broken_landmarks", "case3"]


def test_dask_local_cluster_survives_a_killed_worker(phantom_cohort, tmp_path):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    killed = []

    def kill_one_worker(done, total, row, elapsed):
        if not killed:
            pids = client.run(os.getpid)
            busy = [addr for addr, tasks in client.processing().items() if tasks] or list(pids)
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(busy[0])

    try:
        out = tmp_path / "dask.csv"
        summary = run_batch(phantom_cohort["manifest"], out, executor="dask", client=client, progress=kill_one_worker)
    finally:
        client.close()
        cluster.close()
    assert killed
    assert summary.ok + summary.errors == 6
    check_rows(read_rows(out), phantom_cohort)


def test_local_batch_retries_a_case_process_killed_from_outside(phantom_cohort, tmp_path):
    """SIGKILL from outside (the OOM killer, a user) of a case's host is not the case's fault: it is run again."""
    from cbct_osteo.batch.isolation import LIVE_CHILDREN

    killed = []

    def kill_one_case_process(done, total, row, elapsed):
        running = LIVE_CHILDREN.pids(busy_only=True)
        if not killed and running:
            os.kill(running[0], signal.SIGKILL)
            killed.append(running[0])

    out = tmp_path / "killed.csv"
    summary = run_batch(phantom_cohort["manifest"], out, executor="local", workers=2, progress=kill_one_case_process)
    assert killed and (summary.ok, summary.errors) == (4, 2)
    check_rows(read_rows(out), phantom_cohort)


def test_a_case_host_serves_several_cases_then_a_fresh_one_takes_over(tmp_path, monkeypatch):
    """Imports are paid once per host; after CASES_PER_HOST cases (or a crash) a new host starts."""
    from cbct_osteo.batch import CaseSpec, isolation

    monkeypatch.setattr(isolation, "CASES_PER_HOST", 2)
    hosts = []
    for i in range(3):
        spec = CaseSpec(f"c{i}", str(tmp_path / "no_scan"), str(tmp_path / "no.json"))
        outcome = isolation.run_case_isolated(spec, timeout_s=120)
        assert outcome.row["status"] == "error" and "no_scan" in outcome.row["error"] and not outcome.lost
        hosts.append(isolation._THREAD.host.proc.pid)
    assert hosts[0] == hosts[1] != hosts[2]
    isolation._THREAD.host.close()
