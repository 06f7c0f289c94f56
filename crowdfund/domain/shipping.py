"""Where a reward or add-on ships, and for how much: a pure rule, no database.

A tier (or add-on) has a shipping kind and, optionally, fees per destination:

- `none`: nothing is shipped, no address is asked for;
- `domestic`: the firm's own country only, at `shipping_fee` (or the `domestic` rate);
- `worldwide`: everywhere at `shipping_fee`, unless `shipping_rates` says otherwise.

`shipping_rates` is a list of `{"to": destination, "fee": minor units or None}`; a destination
is `domestic` (the firm's country), a region below, an ISO 3166-1 country code, or
`rest_of_world`. A fee of None means "does not ship there". The most precise entry wins:
the country itself, then `domestic`, then a region, then `rest_of_world`; with rates and no
matching entry, the item does not ship there.
"""

from collections.abc import Iterable, Mapping

SHIPPING_KINDS = ("none", "domestic", "worldwide")
DOMESTIC = "domestic"
REST_OF_WORLD = "rest_of_world"

_EU = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
REGIONS: Mapping[str, frozenset[str]] = {
    "eu": frozenset(_EU),
    "europe": frozenset(_EU + "GB CH NO IS LI AL BA ME MK RS UA MD BY AD MC SM VA XK".split()),
    "north_america": frozenset("US CA MX".split()),
    "east_asia": frozenset("CN HK MO TW JP KR MN".split()),
    "southeast_asia": frozenset("SG MY TH VN PH ID BN KH LA MM TL".split()),
    "oceania": frozenset("AU NZ FJ PG".split()),
}


def ships(kind):
    """Whether an item of this shipping kind needs an address at all."""
    return kind != "none"


def fee_for(kind, flat_fee, rates, country, home_country):
    """The shipping fee of one item to `country`, or None when it does not ship there.

    `kind` "none" costs nothing anywhere (0)."""
    if kind == "none":
        return 0
    country = (country or "").upper()
    home = (home_country or "").upper()
    if not rates:
        if kind == DOMESTIC:
            return flat_fee if country == home else None
        return flat_fee
    table = {entry["to"]: entry.get("fee") for entry in rates}
    if country in table:
        return _allowed(kind, table[country], country, home)
    if country == home and DOMESTIC in table:
        return table[DOMESTIC]
    for region, members in REGIONS.items():
        if region in table and country in members:
            return _allowed(kind, table[region], country, home)
    if REST_OF_WORLD in table:
        return _allowed(kind, table[REST_OF_WORLD], country, home)
    return None


def _allowed(kind, fee, country, home):
    # A domestic-only item never leaves the firm's country, whatever a rate says.
    if kind == DOMESTIC and country != home:
        return None
    return fee


def clean_rates(raw, kind, valid_countries: Iterable[str]):
    """The founder's rates as stored, and {index: problem} for each bad entry.

    Returns (rates or None, errors). Entries are `{"to", "fee"}`; `fee` None or "" means
    "does not ship there"; a fee must be a whole number of minor units, at least 0."""
    if raw in (None, "", []):
        return None, {}
    if not isinstance(raw, list):
        return None, {"shipping_rates": "list"}
    countries = set(valid_countries)
    rates, errors, seen = [], {}, set()
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            errors[index] = "entry"
            continue
        to = str(entry.get("to") or "").strip()
        to = to.lower() if to.lower() in REGIONS or len(to) != 2 else to.upper()
        if to not in (DOMESTIC, REST_OF_WORLD) and to not in REGIONS and to not in countries:
            errors[index] = "destination"
            continue
        if to in seen:
            errors[index] = "duplicate"
            continue
        seen.add(to)
        fee = entry.get("fee")
        if fee == "":
            fee = None
        if fee is not None and (type(fee) is not int or fee < 0):
            errors[index] = "fee"
            continue
        if kind == DOMESTIC and to != DOMESTIC:
            errors[index] = "domestic_only"
            continue
        rates.append({"to": to, "fee": fee})
    return (rates or None), errors
