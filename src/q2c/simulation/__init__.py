"""The demo company: drives the real services through the business clock.

May import every app below it; nothing imports it but the composition root.
"""
