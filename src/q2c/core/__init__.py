"""The pure kernel: money, clock, state machines, errors and periods.

Must not import Django or any other q2c package: everything else depends on it.
"""
