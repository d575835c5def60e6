"""Orders and fulfilment: orders made from contracts (new, amendment, renewal, cancellation),
stock per product and location with reservations, back-orders and a stock ledger, shipments
(pick → ship → deliver) and provisioning of services, subscriptions and usage.

Layer 7: may import core, platform, ledger, parties, tax, catalog, quotes, invoicing and contracts;
never billing, payments or revenue (they react to this app's events, wired in ``q2c.wiring``).
"""
