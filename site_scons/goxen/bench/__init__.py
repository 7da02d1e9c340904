"""`./scons bench`: the unikernel against the same Go program in a Linux PV domU.

run (the orchestrator, `python -m goxen.bench.run`), stats (parsing, statistics, targets,
table), plots (matplotlib PNGs), loadgen (load generators run in the bed's namespace), tree
(the deterministic 50 MB romfs tree) and, from helper "faults", host (netstack vs Linux on
the host TAP).
"""
