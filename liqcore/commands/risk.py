"""``liqcore risk EXCHANGE SYMBOL SIDE SIZE --entry P --leverage L``: a perpetual position's
liquidation price and its 0-100 liquidation-risk score with the score's parts (``liqcore.risk``;
conventions in ``docs/risk.md``). Offline: pure computation, no network."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from liqcore.commands.common import Parser, checked, fail, positive, print_json

__all__ = ["HELP", "build_parser", "run"]

HELP = "a position's liquidation price and 0-100 liquidation-risk score with its parts"

#: a fraction in [0, 1) (a maintenance margin rate)
_rate = checked(float, "a number", "in [0, 1)", lambda x: 0.0 <= x < 1.0)
#: any finite number (a funding rate may be negative)
_finite = checked(float, "a number", "(finite)", lambda x: x == x and abs(x) != float("inf"))


def build_parser(prog: str = "liqcore risk") -> argparse.ArgumentParser:
    """The options of ``liqcore risk``."""
    p = Parser(
        prog=prog,
        description="The liquidation price of a one-way perpetual position (Binance USD-M isolated or cross, "
                    "Bybit isolated) under a leverage tier table, and the 0-100 liquidation-risk score: the "
                    "probability of touching the liquidation price within the horizon (GBM with the given "
                    "volatility), the distance to it in sigmas and the funding paid, weighted as docs/risk.md "
                    "says (the exit-cost part needs a live book and is left out here, the other weights "
                    "renormalised). Tier table: the bundled Binance BTCUSDT one, --tiers FILE, or --mmr RATE "
                    "(one tier).",
        epilog="Exit status: 0 when computed, 1 when the position is already liquidated at --price (or at any "
               "price), 2 on an error (a bad option, an exchange without a liquidation formula, a symbol without "
               "a tier table, a leverage above the tier's maximum).")
    p.add_argument("exchange", help="ccxt id: binance, binanceusdm (Binance USD-M formula) or bybit")
    p.add_argument("symbol", help="e.g. BTC/USDT:USDT (BTCUSDT has a bundled tier table on Binance)")
    p.add_argument("side", choices=("long", "short"), help="side of the position")
    p.add_argument("size", type=positive, help="position size, base units, > 0")
    p.add_argument("--entry", type=positive, required=True, help="entry price, quote per base")
    p.add_argument("--leverage", type=positive, required=True, help="leverage, a multiple of the margin")
    p.add_argument("--margin-mode", choices=("isolated", "cross"), default="isolated",
                   help="margin mode (default isolated)")
    p.add_argument("--wallet", type=positive, default=None,
                   help="margin, quote: the isolated margin (default size x entry / leverage) or, in cross mode "
                        "(required there), the cross wallet balance")
    p.add_argument("--price", type=positive, default=None, help="mark price now, quote per base (default: entry)")
    p.add_argument("--volatility", type=positive, default=0.6,
                   help="annualised volatility, a fraction (default 0.6 = 60%%/year)")
    p.add_argument("--horizon-days", type=positive, default=1.0, help="horizon of the score, days (default 1)")
    p.add_argument("--funding-rate", type=_finite, default=0.0,
                   help="funding rate per 8-hour interval, a fraction (a long pays when > 0; default 0)")
    p.add_argument("--tiers", metavar="FILE", default=None,
                   help='tier table, JSON: a list of {"floor", "cap", "max_leverage", "mmr", "cum"?} (quote, '
                        'fractions)')
    p.add_argument("--mmr", type=_rate, default=None, help="one-tier table with this maintenance margin rate")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def _tiers(args: argparse.Namespace) -> Any:
    """The tier table the options ask for. Raises RiskInputError, OSError, ValueError (bad JSON)."""
    from liqcore.risk import LeverageTiers

    if args.tiers is not None and args.mmr is not None:
        raise ValueError("give --tiers or --mmr, not both")
    if args.tiers is not None:
        with open(args.tiers, encoding="utf-8") as fh:
            rows = json.load(fh)
        return LeverageTiers.build(rows, exchange=args.exchange, symbol=args.symbol, source=args.tiers)
    if args.mmr is not None:
        # one tier wide enough for any position, allowing the position's own leverage
        row = {"floor": 0, "cap": 1e18, "max_leverage": args.leverage, "mmr": args.mmr, "cum": 0}
        return LeverageTiers.build([row], exchange=args.exchange, symbol=args.symbol, source="--mmr")
    return LeverageTiers.default(args.exchange, args.symbol)


def assess(args: argparse.Namespace) -> dict[str, Any]:
    """The liquidation price and score of the position ``args`` describes, as a JSON-ready dict.
    Raises RiskInputError (bad position, no formula or table), OSError/ValueError (``--tiers``)."""
    from liqcore.risk import DAYS_PER_YEAR, Position, liquidation_price, liquidation_risk

    position = Position(args.exchange, args.symbol, args.side, args.size, args.entry, args.leverage,
                        args.margin_mode, args.wallet)
    tiers = _tiers(args)
    liq = liquidation_price(position, tiers, mark=args.price)
    risk = liquidation_risk(position, sigma=args.volatility, tiers=tiers, mark=args.price,
                            horizon=args.horizon_days / DAYS_PER_YEAR, funding_rate=args.funding_rate,
                            funding_intervals=3.0 * args.horizon_days)
    score = risk.to_dict()
    return {"position": {"exchange": position.exchange, "symbol": position.symbol, "side": position.side,
                         "size": position.size, "entry_price": position.entry_price, "leverage": position.leverage,
                         "margin_mode": position.margin_mode, "wallet_balance": position.wallet_balance},
            "volatility": args.volatility, "horizon_days": args.horizon_days, "funding_rate": args.funding_rate,
            "tiers": {"source": tiers.source, "as_of": tiers.as_of, "count": len(tiers)},
            "liquidation": liq.to_dict(), "risk": score,
            "liquidated": bool(liq.liquidated_at_mark) or liq.reason == "liquidated at any price"}


def _print(r: dict[str, Any]) -> None:
    pos, liq, risk = r["position"], r["liquidation"], r["risk"]
    print(f"{pos['exchange']} {pos['symbol']}: {pos['side']} {pos['size']:g} at {pos['entry_price']:,.2f}, "
          f"{pos['leverage']:g}x {pos['margin_mode']}, margin {pos['wallet_balance']:,.2f}")
    where = f"{liq['price']:,.2f}" if liq["price"] is not None else f"none ({liq['reason']})"
    tier = liq["tier"]
    mm = "-" if liq["maintenance_margin"] is None else f"{liq['maintenance_margin']:,.2f}"
    print(f"liquidation price: {where} (tier {tier['index']}, mmr {tier['mmr']:g}, maintenance margin {mm}; "
          f"table: {r['tiers']['as_of'] or r['tiers']['source']})")
    print(f"risk score: {risk['score']:.1f} / 100 over {r['horizon_days']:g} day(s) at {r['volatility']:.0%} "
          f"volatility; mark {risk['mark']:,.2f}, {risk['distance_sigma']:.2f} sigma away, touch probability "
          f"{risk['probability']:.4f}, funding cost {risk['funding_cost']:,.2f}")
    print("  " + ", ".join(f"{k} {v:.3f} (weight {risk['weights'].get(k, 0):.2f})"
                           for k, v in risk["components"].items()))
    if r["liquidated"]:
        print("LIQUIDATED: the mark is at or beyond the liquidation price")


def run(args: argparse.Namespace) -> int:
    """Compute and print; the exit status of the help."""
    from liqcore.errors import LiqError

    try:
        result = assess(args)
    except (LiqError, OSError, ValueError) as exc:
        return fail("liqcore risk", exc)
    if args.json:
        print_json(result)
    else:
        _print(result)
    sys.stdout.flush()
    return 1 if result["liquidated"] else 0
