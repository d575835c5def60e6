"""The composition root as a Django app: it wires the apps together (``q2c/wiring.py``) when Django
starts, and owns the commands that span apps (serve, worker, demo, bench, audit, createuser)."""
