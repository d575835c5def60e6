"""The composition root's wiring of the later stages, one module per stage (each has ``wire()``),
called in order by ``q2c.wiring.wire()``. Same rules as wiring.py: handlers for events against the
import direction, registries (benchmarks, jobs, checks, demo steps), navigation and panels.
"""
