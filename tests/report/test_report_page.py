"""Paper size follows the locale (Letter in North America, A4 elsewhere)."""

from __future__ import annotations

import pytest

from cbct_osteo.report.page import default_page_size


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "en_US.UTF-8"}, "Letter"),
        ({"LANG": "fr_CA.UTF-8"}, "Letter"),
        ({"LANG": "de_DE.UTF-8"}, "A4"),
        ({"LANG": "C.UTF-8"}, "A4"),
        ({"LANG": "en_US.UTF-8", "LC_PAPER": "en_GB.UTF-8"}, "A4"),
        ({"LC_ALL": "es_MX.UTF-8", "LC_PAPER": "it_IT.UTF-8"}, "Letter"),
    ],
)
def test_default_page_size(monkeypatch, env, expected):
    for name in ("LC_ALL", "LC_PAPER", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_page_size() == expected
