"""A slow, obviously-correct reference of the level model (docs/level-model.md), for comparisons.

Every level is a dict; every step rescans all of them. Nothing is shared with liqtui.engine.
"""

from __future__ import annotations

WEIGHTS = {5: 0.15, 10: 0.30, 25: 0.25, 50: 0.20, 100: 0.10}


class ReferenceBook:
    def __init__(self, weights=None, mmr=0.004, long_share=0.5):
        self.weights = dict(WEIGHTS if weights is None else weights)
        total = sum(self.weights.values())
        self.weights = {L: w / total for L, w in self.weights.items()}
        self.mmr = mmr
        self.long_share = long_share
        self.levels: list[dict] = []
        self.added = 0.0

    def step(self, low, high, price, d_oi, t=None, lookback=None):
        if t is not None and lookback is not None:  # levels added more than ``lookback`` before t leave
            self.levels = [lv for lv in self.levels if lv["time"] >= t - lookback]
        swept = [
            lv
            for lv in self.levels
            if (lv["side"] == "long" and lv["price"] >= low)
            or (lv["side"] == "short" and lv["price"] <= high)
        ]
        self.levels = [lv for lv in self.levels if lv not in swept]
        if d_oi > 0:
            n = d_oi * price
            self.added += n
            for L, w in self.weights.items():
                self.levels.append(
                    {
                        "side": "long",
                        "lev": L,
                        "usd": n * self.long_share * w,
                        "price": price * (1 - 1 / L) / (1 - self.mmr),
                        "time": t,
                    }
                )
                self.levels.append(
                    {
                        "side": "short",
                        "lev": L,
                        "usd": n * (1 - self.long_share) * w,
                        "price": price * (1 + 1 / L) / (1 + self.mmr),
                        "time": t,
                    }
                )
        elif d_oi < 0:
            x = -d_oi * price
            total = sum(lv["usd"] for lv in self.levels)
            if total > 0:
                keep = max(0.0, 1 - x / total)
                for lv in self.levels:
                    lv["usd"] *= keep
                self.levels = [lv for lv in self.levels if lv["usd"] > 0]
        return swept

    def at_risk(self, price, target):
        if target > price:
            return sum(
                lv["usd"] for lv in self.levels if lv["side"] == "short" and price < lv["price"] <= target
            )
        return sum(lv["usd"] for lv in self.levels if lv["side"] == "long" and target <= lv["price"] < price)

    def total(self):
        return sum(lv["usd"] for lv in self.levels)
