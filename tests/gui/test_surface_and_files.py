"""Issue 5: the 3D mandible is clipped at the occlusal plane; drag and drop and recent files open cases.

The clip is checked on the phantom (whose crowns end inside the field of view) and on the
phantom with a synthetic maxilla joined to it by touching "upper teeth", which the largest
connected component alone cannot separate.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from scipy.spatial import cKDTree

from cbct_osteo.io.landmarks_file import read_landmarks
from cbct_osteo.locate import bone_threshold, cached_location
from cbct_osteo.reformat import ArchCurve
from cbct_osteo.report.surface import (
    OCCLUSAL_REACH_MM,
    build_surface,
    mandible_region,
    mandible_surface,
    occlusal_cut_height,
)
from cbct_osteo.volume import Volume

from gui_helpers import WAIT_MS, open_case, settle

pytestmark = pytest.mark.gui
MAXILLA_ABOVE_ARCH_MM = 30.0


@pytest.fixture(scope="session")
def phantom_case():
    """The GUI tests' phantom (same shape, voxel size and seed as ``phantom_dir``), in memory."""
    from cbct_osteo.phantom import make_phantom

    return make_phantom(shape=(84, 216, 216), voxel_mm=0.5, seed=3)


@pytest.fixture(scope="session")
def arch_xyz(phantom_case) -> np.ndarray:
    return ArchCurve.from_points(np.asarray(phantom_case.landmarks.arch_points, float)).sample(1.0)


def with_maxilla(volume: Volume, arch_xyz: np.ndarray) -> Volume:
    """The phantom grown 20 mm upward, with a bright 6 mm horseshoe 30 mm above the arch level.

    Three 3 mm wide pillars ("upper teeth in occlusion") join it to the mandible, so that one
    connected component holds both jaws.
    """
    assert volume.affine[2, 0] > 0  # index z runs superior: the new slices go at the end
    pad = int(round(20.0 / volume.spacing[0]))
    air, bright = float(volume.voxels.min()), float(volume.voxels.max())
    voxels = np.concatenate([volume.voxels, np.full((pad, *volume.shape[1:]), air, volume.voxels.dtype)])
    grown = Volume(voxels, volume.spacing, volume.affine.copy(), volume.meta)
    level = float(np.median(arch_xyz[:, 2]))
    zyx = np.indices(grown.shape[1:]).reshape(2, -1).T
    xy = grown.index_to_patient(np.column_stack([np.zeros(len(zyx)), zyx]))[:, :2]
    distance, nearest = cKDTree(arch_xyz[:, :2]).query(xy)
    z = grown.index_to_patient(np.column_stack([np.arange(grown.shape[0]), np.zeros((grown.shape[0], 2))]))[:, 2]
    horseshoe = (distance < 5.0).reshape(grown.shape[1:])
    pillars = np.isin(nearest, [len(arch_xyz) // 6, len(arch_xyz) // 2, 5 * len(arch_xyz) // 6]) & (distance < 1.5)
    pillars = pillars.reshape(grown.shape[1:])
    for k, height in enumerate(z - level):
        if MAXILLA_ABOVE_ARCH_MM <= height <= MAXILLA_ABOVE_ARCH_MM + 6.0:
            grown.voxels[k][horseshoe] = bright
        if 10.0 <= height <= MAXILLA_ABOVE_ARCH_MM + 1.0:
            grown.voxels[k][pillars] = bright
    return grown


def surface_of(volume: Volume, threshold: float, arch_xyz: np.ndarray | None):
    """Bounds of the 3D view's surface (the report's pipeline): clipped along ``arch_xyz``, whole without."""
    built = mandible_surface(volume, threshold, arch_xyz=arch_xyz, clip=arch_xyz is not None)
    return built.cut_height_mm, built.polydata.GetBounds()


def test_clip_keeps_the_mandible_below_the_occlusal_cut(phantom_case, arch_xyz):
    volume = phantom_case.volume
    threshold = bone_threshold(volume)
    level = float(np.median(arch_xyz[:, 2]))
    cut = occlusal_cut_height(volume, arch_xyz, threshold)
    # The phantom's crowns reach ~22 mm above the arch level: the cut covers them, within the reach.
    assert level + 20.0 < cut <= level + OCCLUSAL_REACH_MM
    used_cut, clipped = surface_of(volume, threshold, arch_xyz)
    _, full = surface_of(volume, threshold, None)
    assert used_cut == cut and clipped[5] <= cut
    assert clipped[1] - clipped[0] > 92.0  # the whole arch (92 mm between its posterior ends) is still there
    assert clipped[4] == pytest.approx(full[4], abs=1.0)  # down to the inferior border
    assert full[5] >= clipped[5]
    region = mandible_region(volume, cached_location(volume))
    low = build_surface(region, threshold, cut_height_mm=level + 10.0).GetBounds()
    assert low[5] <= level + 10.0 < full[5]  # a lower cut really removes the top


def test_clip_removes_a_maxilla_joined_to_the_teeth(phantom_case, arch_xyz):
    volume = with_maxilla(phantom_case.volume, arch_xyz)
    threshold = bone_threshold(phantom_case.volume)
    level = float(np.median(arch_xyz[:, 2]))
    _, full = surface_of(volume, threshold, None)
    assert full[5] > level + MAXILLA_ABOVE_ARCH_MM  # unclipped, the largest component holds both jaws
    cut, clipped = surface_of(volume, threshold, arch_xyz)
    assert cut is not None and cut <= level + OCCLUSAL_REACH_MM < level + MAXILLA_ABOVE_ARCH_MM
    assert clipped[5] <= cut
    assert clipped[1] - clipped[0] > 92.0 and clipped[4] == pytest.approx(full[4], abs=1.0)


def test_without_an_arch_nothing_is_clipped_and_the_checkbox_rebuilds(qtbot, make_window, phantom_dir):
    window = make_window()
    open_case(qtbot, window, phantom_dir)
    assert window.views.clip_checkbox.isChecked() and window.surface.cut_mm is None  # no arch yet: keep everything
    full = surface_bounds(window)
    arch = read_landmarks(phantom_dir / "landmarks.json").arch_points
    window.placing.edit(lambda model: model.set_arch_points(list(arch)))
    settle(qtbot, window)
    cut = window.surface.cut_mm
    assert cut is not None and np.median(np.asarray(arch)[:, 2]) + 20.0 < cut
    clipped = surface_bounds(window)
    assert clipped[5] <= cut <= full[5] + 3.0 and clipped[1] - clipped[0] > 92.0
    window.views.clip_checkbox.setChecked(False)
    settle(qtbot, window)
    assert window.surface.cut_mm is None and surface_bounds(window)[5] >= clipped[5]


def test_dropping_a_folder_opens_the_case(qtbot, make_window, phantom_dir):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(phantom_dir))])
    enter = QDragEnterEvent(QPointF(window.rect().center()), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.caseShown, timeout=WAIT_MS):
        window.dropEvent(drop)
    settle(qtbot, window)
    assert window.volume is not None and window.volume.shape == (84, 216, 216)


def test_recent_files_remember_and_reopen(qtbot, make_window, phantom_dir):
    first = make_window()
    assert not first.recent_menu.isEnabled()  # fresh settings: nothing recent yet
    open_case(qtbot, first, phantom_dir)
    assert [a.text() for a in first.recent_menu.actions()] == [str(phantom_dir)]
    first.settings.sync()

    second = make_window()  # same settings file: the list survives a restart
    assert second.settings.value("recent") in ([str(phantom_dir)], str(phantom_dir))
    actions = second.recent_menu.actions()
    assert [a.text() for a in actions] == [str(phantom_dir)]
    with qtbot.waitSignal(second.caseShown, timeout=WAIT_MS):
        actions[0].trigger()
    settle(qtbot, second)
    assert second.volume is not None and second.volume.shape == (84, 216, 216)


def surface_bounds(window) -> tuple[float, ...]:
    actor = window.views.view3d._surface_actor
    assert actor is not None
    return actor.GetMapper().GetInput().GetBounds()
