"""Risk of leveraged positions and portfolios: liquidation prices and probabilities, leverage
caps, portfolio VaR/ES, correlation and concentration, margin utilisation.

Formulas, sources and worked examples: shared/research/analytics.md §6-7 (every worked example
is a test, to the printed digits); model choices in docs/risk.md. Pure functions over records
and numpy arrays; bad input raises :class:`liqcore.errors.RiskInputError`.
"""
