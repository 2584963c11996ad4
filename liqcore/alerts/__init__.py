"""Baselines, anomaly rules and alerts over liquidity metrics (issue 12's monitoring half).

Sources and worked examples: shared/research/analytics.md §8 (each one is a test). Bad input
raises :class:`liqcore.errors.AlertInputError` naming the argument.
"""

from liqcore.alerts.baselines import (
    IGLEWICZ_HOAGLIN,
    MAD_TO_SIGMA,
    MEAN_AD_TO_SIGMA,
    ROBUST_Z_THRESHOLD,
    BaselineStats,
    EwmaBaseline,
    RobustZ,
    baseline_stats,
    ewma_control_factor,
    half_life_lambda,
    median_mad,
    robust_z,
)
from liqcore.alerts.monitor import AlertCallback, LiveLiquidityMonitor
from liqcore.alerts.records import (
    ALERT_TYPES,
    SEVERITIES,
    LiquidityAlert,
    alerts_from_array,
    alerts_from_rows,
    alerts_to_array,
)
from liqcore.alerts.tracker import DEFAULT_METRICS, LiquidityTracker
from liqcore.alerts.rules import (
    SUGGESTED_ACTIONS,
    AlertEngine,
    Check,
    Debounce,
    DepthDrop,
    Imbalance,
    Observation,
    PriceAnomaly,
    Rule,
    SpreadWidening,
    default_rules,
)

__all__ = [
    "robust_z", "RobustZ", "median_mad", "IGLEWICZ_HOAGLIN", "MAD_TO_SIGMA", "MEAN_AD_TO_SIGMA",
    "ROBUST_Z_THRESHOLD", "EwmaBaseline", "half_life_lambda", "ewma_control_factor", "baseline_stats",
    "BaselineStats",
    # alerts: the record, the rules, the debounced engine
    "LiquidityAlert", "ALERT_TYPES", "SEVERITIES", "alerts_to_array", "alerts_from_array", "alerts_from_rows",
    "Observation", "Check",
    "Rule", "Debounce", "SpreadWidening", "DepthDrop", "Imbalance", "PriceAnomaly", "AlertEngine", "default_rules",
    "SUGGESTED_ACTIONS",
    # the live monitor over a LiveFeed
    "LiveLiquidityMonitor", "AlertCallback",
    # liquidity history: capture into a store, baselines over a lookback, anomalies against them
    "LiquidityTracker", "DEFAULT_METRICS",
]
