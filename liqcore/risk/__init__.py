"""Risk of leveraged positions and portfolios: liquidation prices, maps and probabilities, leverage
caps, funding, portfolio VaR/ES, correlation and concentration, margin utilisation.

Formulas, sources and worked examples: shared/research/analytics.md §6-7 (every worked example
is a test, to the printed digits); conventions and model choices in docs/risk.md. Pure functions
over records and numpy arrays; bad input raises :class:`liqcore.errors.RiskInputError` and
computes nothing.
"""

from liqcore.risk.funding import FundingRate, average_premium, funding_cost, funding_rate, premium_index
from liqcore.risk.leverage import CAP_NAMES, LeverageCap, max_leverage
from liqcore.risk.liquidation import (
    EXCHANGE_FORMULAS,
    LiquidationPrices,
    LiquidationResult,
    liquidation_price,
    liquidation_prices,
)
from liqcore.risk.liquidity_risk import BookKey, LiquidityRisk, PositionLiquidity, liquidity_risk
from liqcore.risk.portfolio import (
    Concentration,
    CornishFisherVaR,
    MarginUtilisation,
    ParametricVaR,
    RiskDecomposition,
    SampleMoments,
    TailRisk,
    average_correlation,
    concentration,
    cornish_fisher_var,
    correlation_matrix,
    expected_shortfall,
    historical_var,
    margin_utilisation,
    normal_es_multiplier,
    normal_var_multiplier,
    parametric_var,
    risk_decomposition,
    sample_moments,
    tail_rank,
    tail_risk,
)
from liqcore.risk.liquidation_map import (
    DEFAULT_LEVERAGES,
    MAX_BUCKETS,
    LiquidationMap,
    LiquidationOverlay,
    liquidation_map,
)
from liqcore.risk.monitor import DEFAULT_THRESHOLDS, RiskEvent, RiskMonitor, RiskSnapshot
from liqcore.risk.records import (
    LEVEL_SOURCES,
    LiquidationLevel,
    Position,
    levels_from_array,
    levels_to_array,
    positions_from_array,
    positions_to_array,
)
from liqcore.risk.score import LiquidationRisk, ScoreWeights, liquidation_risk
from liqcore.risk.tiers import LeverageTiers, Tier
from liqcore.risk.probability import (
    BGK_BETA,
    DAYS_PER_YEAR,
    MINUTES_PER_YEAR,
    distance_to_liquidation,
    liquidation_probability,
)

__all__ = [
    # positions, leverage tiers, liquidation prices (Binance USD-M, Bybit)
    "Position", "positions_to_array", "positions_from_array", "Tier", "LeverageTiers", "liquidation_price",
    "liquidation_prices", "LiquidationResult", "LiquidationPrices", "EXCHANGE_FORMULAS",
    # the liquidation map (an estimate from open interest and trades) and published liquidations over it
    "liquidation_map", "LiquidationMap", "LiquidationOverlay", "DEFAULT_LEVERAGES", "MAX_BUCKETS",
    "LiquidationLevel", "LEVEL_SOURCES", "levels_to_array", "levels_from_array",
    # the 0-100 liquidation-risk score and its components, kept live
    "liquidation_risk", "LiquidationRisk", "ScoreWeights", "RiskMonitor", "RiskEvent", "RiskSnapshot",
    "DEFAULT_THRESHOLDS",
    # probability of touching the liquidation price (GBM barrier, BGK correction)
    "liquidation_probability", "distance_to_liquidation", "DAYS_PER_YEAR", "MINUTES_PER_YEAR", "BGK_BETA",
    # leverage caps
    "max_leverage", "LeverageCap", "CAP_NAMES",
    # funding
    "premium_index", "average_premium", "funding_rate", "FundingRate", "funding_cost",
    # portfolio
    "parametric_var", "ParametricVaR", "tail_risk", "TailRisk", "tail_rank", "historical_var",
    "expected_shortfall", "normal_var_multiplier", "normal_es_multiplier", "sample_moments", "SampleMoments",
    "cornish_fisher_var", "CornishFisherVaR", "correlation_matrix", "average_correlation", "concentration",
    "Concentration", "risk_decomposition", "RiskDecomposition", "margin_utilisation", "MarginUtilisation",
    "liquidity_risk", "LiquidityRisk", "PositionLiquidity", "BookKey",
]
