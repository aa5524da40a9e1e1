"""The command that installs an optional extra fits the way softnorm was installed:
from the package index, from an editable checkout, or from a directory, repository or archive."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

from softnorm_cli.errors import install_hint


class _Installed:
    """A softnorm distribution whose direct_url.json (PEP 610) is ``origin`` (None: none recorded)."""

    def __init__(self, origin: dict | None):
        self.origin = origin

    def read_text(self, name: str) -> str | None:
        return None if self.origin is None or name != "direct_url.json" else json.dumps(self.origin)


@pytest.mark.parametrize(
    "origin, command",
    [
        (None, "pip install 'softnorm[dask]'"),
        ({"url": "file:///home/ann/src/soft%20norm", "dir_info": {"editable": True}}, "pip install -e '/home/ann/src/soft norm[dask]'"),
        ({"url": "file:///home/ann/src/softnorm", "dir_info": {}}, "pip install 'dask[distributed]'"),
        ({"url": "https://github.com/x/softnorm", "vcs_info": {"vcs": "git", "commit_id": "abc"}}, "pip install 'dask[distributed]'"),
        ({"url": "file:///tmp/softnorm-1.0.0-py3-none-any.whl", "archive_info": {}}, "pip install 'dask[distributed]'"),
    ],
    ids=["index", "editable-checkout", "directory", "vcs", "archive"],
)
def test_the_hint_fits_the_install(monkeypatch, origin, command):
    monkeypatch.setattr(metadata, "distribution", lambda name: _Installed(origin))
    assert install_hint("dask", "dask[distributed]") == command


def test_a_source_tree_that_was_never_installed_gets_the_packages(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    assert install_hint("dask", "fsspec") == "pip install 'fsspec'"
