"""``python -m cbct_osteo.batch.host``: a process that runs batch cases, one at a time, for its parent.

The parent (:mod:`cbct_osteo.batch.isolation`) keeps one host per worker slot, so the imports
(numpy, scipy, pydicom, ... about a second) are paid once per host, not once per case, while
an abort, a segmentation fault or a hang in a native decoder still ends only the host running
that one case: the parent charges that case and starts a fresh host. Protocol, one JSON object
per line:

- stdin (parent -> host): jobs ``{"spec": {CaseSpec fields}, "refine": bool, "force": bool,
  "index_files": [paths], "as_placed": [[side, id], ...] | null}`` (null: the case's session decides).
  End of file means the parent is done or died: the host exits at once, even mid-case, so
  hosts never outlive the run.
- stdout (host -> parent): ``{"ready": true}`` once imported; per job ``{"stage": "start"}``
  on receipt, ``{"stage": NAME}`` as the case goes, then ``{"row": {...}}``. Anything a library
  prints on stdout goes to stderr instead, so it cannot corrupt this channel.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from typing import Any, TextIO

#: Exit status when the parent closed the job pipe (finished, or died).
ORPHANED_EXIT = 75


def _read_jobs(jobs: queue.Queue[bytes]) -> None:
    """Queue each job line; at end of file (parent done or dead) leave at once."""
    try:
        for line in sys.stdin.buffer:
            jobs.put(line)
    except (OSError, ValueError):
        pass
    os._exit(ORPHANED_EXIT)


def _result_channel() -> TextIO:
    """Our own copy of stdout for the protocol; fd 1 then points at stderr for library chatter."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return channel


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, ensure_ascii=True) + "\n")
    channel.flush()


def main() -> None:
    channel = _result_channel()
    jobs: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=_read_jobs, args=(jobs,), name="job-reader", daemon=True).start()
    from cbct_osteo.batch.case import preload, run_case
    from cbct_osteo.batch.manifest import CaseSpec
    from cbct_osteo.measure.margin_method import as_placed_pairs

    preload()
    _send(channel, {"ready": True})
    while True:
        job = json.loads(jobs.get())
        _send(channel, {"stage": "start"})
        row = run_case(
            CaseSpec(**job["spec"]),
            refine=bool(job.get("refine", True)),
            force=bool(job.get("force", False)),
            on_stage=lambda name: _send(channel, {"stage": name}),
            index_files=tuple(str(p) for p in job.get("index_files", ())),
            as_placed=None if job.get("as_placed") is None else as_placed_pairs(job["as_placed"]),
        )
        _send(channel, {"row": row})


if __name__ == "__main__":
    main()
