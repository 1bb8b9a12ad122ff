"""A seeded, made-up online shop: an event log and a users table, written as CSV files.

The Spark notebook and exercise read these files; they are small enough to commit (regenerate them
with ``python -m mle_handbook.spark.datasets DIRECTORY --seed N``). Their columns and flaws are
described for readers in ``notebooks/spark.ipynb`` ("The data"): events in time order over January
to June 2024, in visits of several events, about 1.5% of the lines malformed as real logs are; and
every user in the log, with some who never do anything.

How the data is made (what a model can learn): each user has a hidden engagement level. Engaged
users visit more often, buy more of what they look at and are more likely to pay for a plan; London
and the South East have somewhat more paying users. So whether a user is on a paid plan
(``plan != "free"``) can be predicted from their behaviour (counts of events, purchases, spend and
active days, plus region) — well but not perfectly: a depth-5 decision tree reaches an area under
the ROC curve of roughly 0.8 to 0.9 on held-out users, and never 1.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

#: The twelve UK nations and regions (ITL1) and rough shares of the population.
REGIONS = {
    "North East": 0.040,
    "North West": 0.110,
    "Yorkshire and The Humber": 0.082,
    "East Midlands": 0.072,
    "West Midlands": 0.088,
    "East of England": 0.095,
    "London": 0.132,
    "South East": 0.137,
    "South West": 0.084,
    "Wales": 0.046,
    "Scotland": 0.081,
    "Northern Ireland": 0.028,
}
PLANS = ("free", "standard", "premium")
EVENT_TYPES = ("view", "add_to_cart", "remove_from_cart", "purchase")
EVENTS_HEADER = "user_id,event_time,event_type,item_id,amount"
USERS_HEADER = "user_id,region,signup_date,plan"

START = datetime(2024, 1, 1)
DAYS = 182  # 1 January to 30 June 2024
N_ITEMS = 60
MALFORMED_SHARE = 0.015
_EVENTS_PER_SESSION = 5.5  # on average; used only to size the log

#: Extra log-odds of a paid plan by region (other regions: 0).
_REGION_PAID = {"London": 0.6, "South East": 0.3, "North East": -0.3, "Wales": -0.2}


@dataclass(frozen=True)
class ShopFiles:
    events: Path
    users: Path


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _users(rng: np.random.Generator, n_users: int) -> list[dict]:
    names = list(REGIONS)
    shares = np.array(list(REGIONS.values()))
    regions = rng.choice(len(names), size=n_users, p=shares / shares.sum())
    users = []
    for k in range(n_users):
        region = names[regions[k]]
        engagement = float(rng.normal())
        paid = rng.random() < _sigmoid(-1.0 + 2.4 * engagement + _REGION_PAID.get(region, 0.0))
        plan = ("premium" if rng.random() < 0.35 else "standard") if paid else "free"
        signup = date(2023, 1, 1) + timedelta(days=int(rng.integers(0, 547)))  # up to 30 June 2024
        users.append(
            {
                "user_id": 1001 + k,
                "region": region,
                "signup_date": signup,
                "plan": plan,
                "engagement": engagement,
                "paid": paid,
                # About one user in fifteen signs up and never comes back.
                "dormant": rng.random() < 0.07,
            }
        )
    return users


def _session(rng, user, day: date, items, prices, taste) -> list[tuple]:
    """The events of one visit: views, some added to the basket, some bought."""
    hour = int(rng.choice(24, p=_HOUR_SHARES))
    t = datetime(day.year, day.month, day.day, hour) + timedelta(seconds=int(rng.integers(0, 3600)))
    buy = _sigmoid(-1.6 + 0.6 * user["engagement"] + (2.0 if user["paid"] else 0.0))
    events = []
    for _ in range(1 + int(rng.poisson(2.2))):
        item = int(rng.choice(N_ITEMS, p=taste))
        t += timedelta(seconds=int(rng.integers(5, 240)))
        events.append((t, "view", items[item], None))
        if rng.random() < 0.35:
            t += timedelta(seconds=int(rng.integers(5, 120)))
            events.append((t, "add_to_cart", items[item], prices[item]))
            if rng.random() < 0.15:
                t += timedelta(seconds=int(rng.integers(5, 120)))
                events.append((t, "remove_from_cart", items[item], None))
            elif rng.random() < buy:
                t += timedelta(seconds=int(rng.integers(20, 600)))
                events.append((t, "purchase", items[item], prices[item]))
    return events


_HOUR_SHARES = np.array(
    [1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5, 6, 5, 4, 4, 5, 6, 8, 10, 10, 8, 5, 2], dtype=float
)
_HOUR_SHARES /= _HOUR_SHARES.sum()


def _malformed(rng: np.random.Generator, fields: list[str]) -> str:
    """One line spoiled in one of the ways real logs are."""
    user_id, event_time, event_type, item_id, amount = fields
    kind = int(rng.integers(0, 7))
    if kind == 0:  # a date that does not exist
        event_time = event_time[:5] + "02-30" + event_time[10:]
    elif kind == 1:  # another system's date format
        d = datetime.strptime(event_time, "%Y-%m-%d %H:%M:%S")
        event_time = d.strftime("%d/%m/%Y %H:%M:%S")
    elif kind == 2:  # a placeholder
        event_time = str(rng.choice(["unknown", "NULL", "-", "N/A"]))
    elif kind == 3:  # a user id that is not a number
        user_id = str(rng.choice([f"user_{user_id}", user_id.replace("0", "O", 1) + "x", "guest"]))
    elif kind == 4:  # a currency symbol in the amount
        event_type, amount = "purchase", "£" + (amount or "9.99")
    elif kind == 5:  # a truncated line
        return ",".join([user_id, event_time, event_type])
    else:  # an extra field
        return ",".join([user_id, event_time, event_type, item_id, amount, "web"])
    return ",".join([user_id, event_time, event_type, item_id, amount])


def make_shop_data(seed: int = 2026, n_users: int = 800, n_events: int = 8000) -> tuple[list, list]:
    """The lines of ``events.csv`` and ``users.csv`` (without newlines), headers first."""
    rng = np.random.default_rng(seed)
    users = _users(rng, n_users)
    items = [f"I{k:03d}" for k in range(1, N_ITEMS + 1)]
    prices = [f"{p:.2f}" for p in np.round(np.exp(rng.normal(3.0, 0.7, N_ITEMS)), 2).clip(2, 250)]
    popularity = 1.0 / np.arange(1, N_ITEMS + 1) ** 0.8
    rng.shuffle(popularity)
    tastes = {}
    for region in REGIONS:
        taste = popularity * np.exp(rng.normal(0.0, 0.6, N_ITEMS))
        tastes[region] = taste / taste.sum()

    # Sessions per user in proportion to a rate that grows with engagement and a paid plan and to the
    # share of the period after sign-up; scaled so that the log has about n_events lines.
    active = []
    for user in users:
        first = max(0, (user["signup_date"] - START.date()).days)
        if not user["dormant"] and first < DAYS - 1:
            weight = math.exp(0.6 * user["engagement"] + (1.1 if user["paid"] else 0.0))
            active.append((user, first, weight * (DAYS - first) / DAYS))
    scale = n_events / _EVENTS_PER_SESSION / sum(w for _, _, w in active)
    rows = []
    for user, first, weight in active:
        for _ in range(max(1, int(rng.poisson(weight * scale)))):
            day = START.date() + timedelta(days=int(rng.integers(first, DAYS)))
            for t, kind, item, amount in _session(
                rng, user, day, items, prices, tastes[user["region"]]
            ):
                rows.append((t, user["user_id"], kind, item, amount))
    rows.sort()

    events = [EVENTS_HEADER]
    for t, user_id, kind, item, amount in rows:
        fields = [str(user_id), t.strftime("%Y-%m-%d %H:%M:%S"), kind, item, amount or ""]
        if rng.random() < MALFORMED_SHARE:
            events.append(_malformed(rng, fields))
        else:
            events.append(",".join(fields))
    table = [USERS_HEADER] + [
        f"{u['user_id']},{u['region']},{u['signup_date'].isoformat()},{u['plan']}" for u in users
    ]
    return events, table


def write_shop_data(
    directory: str | Path, seed: int = 2026, n_users: int = 800, n_events: int = 8000
) -> ShopFiles:
    """Write ``events.csv`` and ``users.csv`` into ``directory``; the same seed gives the same bytes."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    events, users = make_shop_data(seed=seed, n_users=n_users, n_events=n_events)
    files = ShopFiles(directory / "events.csv", directory / "users.csv")
    files.events.write_text("\n".join(events) + "\n", encoding="utf-8")
    files.users.write_text("\n".join(users) + "\n", encoding="utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the made-up shop's events.csv and users.csv."
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--users", type=int, default=800)
    parser.add_argument("--events", type=int, default=8000)
    args = parser.parse_args(argv)
    files = write_shop_data(args.directory, args.seed, args.users, args.events)
    for path in (files.events, files.users):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
