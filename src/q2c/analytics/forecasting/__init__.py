"""Forecasts and pricing intelligence: win probability, discount recommendation, revenue and cash
forecasts with their backtests.

``winprob``, ``recommend`` and ``series`` are pure (plain rows in, plain results out, no Django);
``gather`` reads the quotes, billing and invoicing tables into those rows; ``store`` keeps the
trained model; ``jobs`` is the daily training task.
"""
