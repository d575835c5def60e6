"""Dunning: the pure policy engine (``engine``) that decides which step an overdue invoice gets on a
business date, and statutory late-payment interest computed to the day.

Pure Python: imports only ``q2c.core``; the daily job, documents and postings live elsewhere.
"""
