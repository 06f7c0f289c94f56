"""The running total the backing and change pages show before paying (reads only).

The same parts and rules as the charge (`pledge_pricing.price_reward`, `add_on_pricing`):
reward x quantity, add-ons, shipping to the chosen country, extra. What is not known yet
(no country chosen while something ships) is left as None, and the total then says so.
static/js/backing.js repeats this sum in the browser from the same figures (`figures`).
"""

from dataclasses import dataclass, field

from ..domain import shipping as shipping_rules
from .add_on_pricing import home_country, offered


@dataclass
class Quote:
    tier: object = None  # the RewardTier, or None (no reward)
    quantity: int = 1
    reward: int = 0
    add_ons: list = field(default_factory=list)  # [(RewardAddOn, units)]
    add_ons_amount: int = 0
    ships: bool = False
    shipping: int | None = 0  # None: a country is still to be chosen, or it is not shipped there
    does_not_ship: bool = False
    extra: int = 0
    total: int | None = 0


def quote(project, tier, quantity, lines, extra, amount, country):
    """`lines`: [(add-on id, units)]; money in minor units; `country` ISO or ''/None."""
    q = Quote(tier=tier, extra=max(extra or 0, 0))
    if tier is None:
        q.reward = max(amount or 0, 0)
        q.total = q.reward + q.extra
        return q
    q.quantity = max(quantity or 1, 1)
    q.reward = tier.price * q.quantity
    by_id = {a.id: a for a in offered(project)}
    q.add_ons = [(by_id[i], n) for i, n in lines if i in by_id and n > 0]
    q.add_ons_amount = sum(a.price * n for a, n in q.add_ons)
    shipped = [tier] if shipping_rules.ships(tier.shipping) else []
    shipped += [a for a, _n in q.add_ons if shipping_rules.ships(a.shipping)]
    q.ships = bool(shipped)
    if q.ships:
        if not country:
            q.shipping = None
        else:
            home = home_country(project)
            fees = [
                shipping_rules.fee_for(i.shipping, i.shipping_fee, i.shipping_rates, country, home) for i in shipped
            ]
            q.does_not_ship = any(fee is None for fee in fees)
            q.shipping = None if q.does_not_ship else sum(fees)
    q.total = None if q.shipping is None else q.reward + q.add_ons_amount + q.shipping + q.extra
    return q


def figures(project):
    """What the page's script needs to repeat the sum: prices, fees, regions (JSON-ready)."""

    def terms(item):
        return {
            "price": item.price,
            "shipping": item.shipping,
            "fee": item.shipping_fee,
            "rates": item.shipping_rates or [],
        }

    return {
        "home": home_country(project),
        "tiers": {str(t.id): terms(t) for t in project.tiers},
        "add_ons": {str(a.id): terms(a) for a in offered(project)},
        "regions": {name: sorted(members) for name, members in shipping_rules.REGIONS.items()},
    }
