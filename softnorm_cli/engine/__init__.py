"""The work: choosing columns, fitting statistics over a source and applying them, here or on a cluster.

The calls a program makes are here: ``Job`` (what to do), ``fit`` (a
source's statistics as a :class:`~softnorm_cli.engine.fitted.Fitted`
record), ``apply`` (a record to a source, into a sink) and ``fit_apply``
(both, over one source). They are loaded on first use, so that importing a
module of the engine loads only what that module needs.
"""

_EXPORTS = {
    "Job": "softnorm_cli.engine.job",
    "Fitted": "softnorm_cli.engine.fitted",
    "fit": "softnorm_cli.engine.local",
    "apply": "softnorm_cli.engine.local",
    "fit_apply": "softnorm_cli.engine.local",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'softnorm_cli.engine' has no attribute {name!r}")
