"""``python -m cbct_osteo.batch.child JOB_JSON``: one batch case in a process of its own.

The parent (:mod:`cbct_osteo.batch.isolation`) starts one of these per case, so an abort, a
segmentation fault or a hang in a native decoder ends this process only, and is charged to
this case only. Protocol:

- ``JOB_JSON`` (argv[1]): ``{"spec": {CaseSpec fields}, "refine": bool, "force": bool}``.
- stdout: lines ``{"stage": NAME}`` as the case goes, then one ``{"row": {...}}``. Anything a
  library prints on stdout is sent to stderr instead, so it cannot corrupt this channel.
- stdin: held open by the parent and never written. End of file means the parent died: the
  process exits at once (workers never outlive the run).
"""
from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, TextIO

#: Exit status when the parent went away.
ORPHANED_EXIT = 75


def _exit_when_parent_dies() -> None:
    """Wait for end of file on stdin (the parent's end of the pipe closed) and leave at once."""
    def watch() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _result_channel() -> TextIO:
    """Our own copy of stdout for the protocol; fd 1 then points at stderr for library chatter."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return channel


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, ensure_ascii=True) + "\n")
    channel.flush()


def main(argv: list[str]) -> int:
    channel = _result_channel()
    _exit_when_parent_dies()
    from cbct_osteo.batch.case import run_case
    from cbct_osteo.batch.manifest import CaseSpec

    job = json.loads(argv[1])
    spec = CaseSpec(**job["spec"])
    row = run_case(spec, refine=bool(job.get("refine", True)), force=bool(job.get("force", False)),
                   on_stage=lambda name: _send(channel, {"stage": name}))
    _send(channel, {"row": row})
    channel.close()
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: a native library's atexit cannot hang a finished case
