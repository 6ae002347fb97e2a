"""GUI speed: start-up to the main window, a 400-slice series to the first slice on screen, and
event-loop responsiveness while it loads (largest gap between 10 ms timer ticks).

Run: ``.venv/bin/python benchmarks/gui.py`` (re-runs itself under xvfb-run when there is no
display). Prints a Markdown table for benchmarks/RESULTS.md ("## GUI"). The 400-slice phantom is
written once to a cache folder (``--cache``, default /tmp/cbct-osteo-bench-gui).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERIES_SHAPE = (400, 320, 320)
VOXEL_MM = 0.3
STARTUP_CODE = (
    "import time, sys; t0 = float(sys.argv[1]);"
    "from cbct_osteo.gui.app import application; from cbct_osteo.gui.main_window import MainWindow;"
    "app = application(); w = MainWindow(); w.show(); app.processEvents(); print(time.time() - t0)"
)


def startup_seconds(runs: int = 3) -> list[float]:
    """Wall time from launching a Python process to the main window being shown (imports included)."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            env = dict(os.environ, CBCT_OSTEO_DATA_DIR=scratch, XDG_CONFIG_HOME=scratch)
            out = subprocess.run(
                [sys.executable, "-c", STARTUP_CODE, repr(time.time())],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def series(cache: Path) -> Path:
    from cbct_osteo.phantom import write_phantom

    folder = cache / f"phantom_{'x'.join(map(str, SERIES_SHAPE))}"
    if not (folder / "landmarks.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_phantom(folder, shape=SERIES_SHAPE, voxel_mm=VOXEL_MM, seed=1)
    return folder


def load_to_first_slice(path: Path) -> tuple[float, float, int]:
    """(seconds to the first slice painted, largest event-loop gap in ms, timer ticks) for one open."""
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from cbct_osteo.gui.app import application
    from cbct_osteo.gui.main_window import MainWindow

    app = application()
    scratch = tempfile.mkdtemp()
    os.environ["CBCT_OSTEO_DATA_DIR"] = scratch
    window = MainWindow(QSettings(str(Path(scratch) / "s.ini"), QSettings.IniFormat))
    window.show()
    app.processEvents()
    clock = QElapsedTimer()
    ticks: list[int] = []
    timer = QTimer(interval=10, timeout=lambda: ticks.append(clock.elapsed()))
    shown: dict[str, float] = {}

    def on_shown() -> None:
        window.views.axial.repaint()  # the first slice is on screen when this returns
        shown["t"] = clock.elapsed() / 1000.0
        app.quit()

    window.caseShown.connect(on_shown)
    clock.start()
    timer.start()
    window.loading.open_path(str(path))
    app.exec()
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)] or [0]
    window.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return shown["t"], float(max(gaps)), len(ticks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "cbct-osteo-bench-gui"))
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        return subprocess.call(
            ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24 +extension GLX", sys.executable, *sys.argv],
            env=dict(os.environ, QT_QPA_PLATFORM="xcb"),
        )
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    path = series(Path(args.cache))
    startup = startup_seconds()
    first, gap, ticks = load_to_first_slice(path)
    print("| measurement | value | target |")
    print("|---|---|---|")
    print(
        f"| start-up to main window (new process, median of {len(startup)}) "
        f"| {statistics.median(startup):.2f} s | < 2 s |"
    )
    print(
        f"| choose a {SERIES_SHAPE[0]}-slice series ({SERIES_SHAPE[1]}x{SERIES_SHAPE[2]}, {VOXEL_MM} mm) "
        f"to first slice on screen | {first:.2f} s | |"
    )
    print(
        f"| event loop while loading: largest gap between 10 ms timer ticks ({ticks} ticks) | {gap:.0f} ms | < 100 ms |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
