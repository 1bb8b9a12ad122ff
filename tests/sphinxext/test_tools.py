"""The build's third-party tools are set up through their public doors, with the same result."""

from __future__ import annotations

import pybtex.plugin

from mle_handbook.sphinxext import tools


def test_registered_bibtex_plugins_are_the_classes_pybtex_finds_and_skip_the_entry_point_scan(
    monkeypatch,
):
    found = {key: pybtex.plugin.find_plugin(*key) for key in tools.BIBTEX_PLUGINS}
    tools.register_bibtex_plugins(app=None, config=None)

    scans = []
    monkeypatch.setattr(pybtex.plugin, "entry_points", lambda **kw: scans.append(kw) or [])
    for key, plugin in found.items():
        assert pybtex.plugin.find_plugin(*key) is plugin
    assert scans == []
