"""The softnorm benchmark as a package; ``benchmarks/run.py`` is its entry point.

- ``tables``: the tables (columns, seeds, file names) and the columns each job normalizes;
- ``data``: generating them (``python -m bench.data``);
- ``peers``: the programs softnorm is compared with (``python -m bench.peers``);
- ``tool_io``: how each peer tool reads and writes each format;
- ``checks``: every output against a numpy reference (``python -m bench.checks``), and
  ``checks_wide`` for the wide tables;
- ``harness``: running and timing one whole process;
- ``suites``: the table of suites and the one loop that runs any of them;
- ``report``: the tables, the Markdown and the speed targets;
- ``machine``: what the run ran on, and softnorm's bytecode;
- ``cli``: the user-facing options and the run.

The harness's own modules (harness, suites, report, machine, cli, tables) import only
the standard library: the peers and helpers run in processes of their own (from
``benchmarks/``, as ``python -m bench.NAME``), so that each pays only for its own
imports and the harness's size never counts in a measured peak.
"""
