"""q2c tax: tax codes, effective-dated rates and rules, customers' exemption certificates, and the
pure tax calculator (``q2c.tax.engine``). See docs/tax.md.

Layer 3: may import ``q2c.core``, ``q2c.platform``, ``q2c.ledger`` and ``q2c.parties``; the
engine, ``csvio`` and ``categories`` import neither Django nor the platform.
"""
