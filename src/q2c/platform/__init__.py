"""Infrastructure every app stands on: database fields for money, gapless numbering, the event log
with its bus and audit chain, background tasks, daily schedules, API and UI conventions.

May import ``q2c.core`` and Django; must not import any business app.
"""
