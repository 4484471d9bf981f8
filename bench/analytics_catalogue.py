"""What the analytics benchmark's five years of trade are made of: forwarders and their
brokers, ports, goods, sellers and their origins, and the words of their mistakes.

Goods are bench.generate's 93 e-commerce lines, a few more that regulators and the
exclusions care about (food, drugs, e-liquids, wine, monitors, books and posters), and a
long tail of other statistical lines of the loaded schedule, declared with the schedule's
own words. Sellers are bench.generate's 22 and 2,978 more, with a few sellers shipping
most parcels, as on the marketplaces.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from app.hts.importer import parse_schedule
from bench.generate import PRODUCTS, SHIPPERS, Product

PORTS = ("LAX", "JFK", "SFO", "ATL")


@dataclass(frozen=True)
class Forwarder:
    name: str
    share: float  # of all HAWBs
    ports: dict[str, float]  # port -> share of its HAWBs
    prefix: str  # its HAWB numbers start with these letters


FORWARDERS: tuple[Forwarder, ...] = (
    Forwarder("Pacific Rim Logistics", 0.20, {"LAX": 0.4, "JFK": 0.25, "SFO": 0.2, "ATL": 0.15},
              "PR"),
    Forwarder("Shenzhen Swift Freight", 0.15, {"LAX": 0.5, "JFK": 0.3, "ATL": 0.2}, "SZ"),
    Forwarder("Golden Bridge Express", 0.12, {"SFO": 0.5, "LAX": 0.3, "JFK": 0.2}, "GB"),
    Forwarder("Kowloon Air Consolidators", 0.10, {"JFK": 0.5, "LAX": 0.5}, "KW"),
    Forwarder("Saigon Star Cargo", 0.08, {"LAX": 0.6, "ATL": 0.4}, "SS"),
    Forwarder("Seoul Global Forwarding", 0.07, {"JFK": 0.4, "SFO": 0.3, "ATL": 0.3}, "SG"),
    Forwarder("Lotus Air Logistics", 0.06, {"LAX": 0.7, "SFO": 0.3}, "LO"),
    Forwarder("Jade Dragon Freight", 0.05, {"JFK": 1.0}, "JD"),
    Forwarder("Bangkok Sky Cargo", 0.04, {"LAX": 0.5, "ATL": 0.5}, "BK"),
    Forwarder("Taipei Link Express", 0.04, {"SFO": 1.0}, "TL"),
    Forwarder("Mumbai Air Consol", 0.03, {"JFK": 0.6, "ATL": 0.4}, "MB"),
    Forwarder("Dragon Gate Logistics", 0.02, {"LAX": 1.0}, "DG"),
    Forwarder("Sakura Air Freight", 0.02, {"SFO": 0.5, "LAX": 0.5}, "SK"),
    Forwarder("Harbour Light Shipping", 0.02, {"ATL": 1.0}, "HL"),
)


@dataclass(frozen=True)
class Broker:
    name: str
    filer_code: str
    clients: tuple[int, ...]  # indices into FORWARDERS


BROKERS: tuple[Broker, ...] = (
    Broker("Harbor Customs Brokerage", "H7K", (0, 2, 4, 6, 8, 10, 12)),
    Broker("Summit Trade Compliance", "S4M", (1, 3, 5, 7, 0)),
    Broker("Blue Ocean Customs", "B2N", (9, 11, 13)),
)

# Goods the regulators and the exclusions care about, beside bench.generate's.
EXTRA_PRODUCTS: tuple[Product, ...] = (
    Product("2106.90.99.98", "Dietary supplement capsules, 60 count", 800, 3500, 0.15),
    Product("0902.10.10.50", "Flavored green tea, 100 g", 500, 2000, 0.15),
    Product("1905.90.90.90", "Rice crackers snack pack", 300, 1500, 0.40),
    Product("1704.90.35.90", "Assorted hard candy, 500 g", 400, 1500, 0.50),
    Product("3004.90.92.80", "Antihistamine tablets, 30 count", 500, 2500, 0.05),
    Product("2404.12.10.00", "Nicotine e-liquid refill 30 ml", 800, 2500, 0.08),
    Product("8543.40.00.30", "Disposable vape pen, 5% nicotine", 800, 2500, 0.05),
    Product("2204.21.50.40", "Red wine 750 ml", 1500, 6000, 1.30),
    Product("8528.52.00.00", "24 inch computer monitor", 9000, 25000, 4.00),
    Product("3401.11.50.00", "Handmade soap bars, set of 3", 500, 2000, 0.35),
    Product("3926.40.00.90", "Resin figurine ornament", 500, 2500, 0.30),
    Product("9405.42.84.40", "LED strip lights 5 m", 800, 3000, 0.30),
    Product("4911.91.40.40", "Art print poster 50x70 cm", 500, 2000, 0.20),
    Product("8211.91.80.60", "Kitchen knife set", 1500, 6000, 1.20),
)
# Goods rarer than the others of their group (relative weight; the others weigh 1).
RARE_GOODS = {"2204215040": 0.05, "2404121000": 0.1, "8543400030": 0.3, "3004909280": 0.5,
              "8528520000": 0.5}
# Share of lines per group of goods: PRODUCTS, EXTRA_PRODUCTS, the schedule's long tail.
GOODS_SHARES = (0.80, 0.06, 0.14)
LONG_TAIL_LINES = 800
LONG_TAIL_CHAPTERS = frozenset({
    "33", "34", "39", "40", "42", "49", "61", "62", "63", "64", "65", "66", "67", "69", "70",
    "71", "73", "76", "82", "83", "85", "90", "91", "92", "94", "95", "96"})

# Whole descriptions CBP names as too vague (the eligibility red flag).
VAGUE_DESCRIPTIONS = ("Gift", "Gifts", "Sample", "Daily necessities", "Accessories", "Parts",
                      "General merchandise", "Clothing", "Toys", "Electronics",
                      "Household goods", "Personal effects", "Misc items")
BROKER_REJECTIONS = (
    "Description too vague to file; ask the shipper what the goods are.",
    "Value looks understated for the weight; send the commercial invoice.",
    "HTS number does not match the goods described.",
    "Consignee address incomplete.",
    "Suspected split shipment: send the order to formal entry.",
)

# Countries of origin of a seller's goods, by the seller's country.
ORIGINS: dict[str, tuple[tuple[str, float], ...]] = {
    "CN": (("CN", 0.93), ("VN", 0.04), ("BD", 0.03)),
    "HK": (("CN", 0.70), ("HK", 0.25), ("TW", 0.05)),
    "VN": (("VN", 0.85), ("CN", 0.15)),
    "KR": (("KR", 0.90), ("CN", 0.10)),
    "IN": (("IN", 1.0),),
    "TH": (("TH", 0.80), ("CN", 0.20)),
    "BD": (("BD", 1.0),),
    "TW": (("TW", 0.70), ("CN", 0.30)),
    "JP": (("JP", 0.80), ("CN", 0.20)),
    "MY": (("MY", 0.60), ("CN", 0.40)),
    "PK": (("PK", 1.0),),
}
SELLER_COUNTRIES = (("CN", 0.64), ("HK", 0.08), ("VN", 0.08), ("KR", 0.05), ("IN", 0.04),
                    ("TH", 0.03), ("BD", 0.02), ("TW", 0.02), ("JP", 0.02), ("MY", 0.01),
                    ("PK", 0.01))
_SELLER_CITIES = {
    "CN": ("Yiwu", "Shenzhen", "Guangzhou", "Dongguan", "Ningbo", "Xiamen", "Hangzhou",
           "Suzhou", "Quanzhou", "Foshan", "Shantou", "Wenzhou"),
    "HK": ("Hong Kong", "Kowloon", "Kwun Tong", "Tsuen Wan"),
    "VN": ("Ho Chi Minh City", "Hanoi", "Da Nang", "Hai Phong"),
    "KR": ("Seoul", "Busan", "Incheon", "Daegu"),
    "IN": ("Mumbai", "Jaipur", "Delhi", "Surat", "Tiruppur"),
    "TH": ("Bangkok", "Chiang Mai", "Nonthaburi"),
    "BD": ("Dhaka", "Chittagong"),
    "TW": ("Taipei", "Taichung", "Kaohsiung"),
    "JP": ("Osaka", "Tokyo", "Nagoya"),
    "MY": ("Kuala Lumpur", "Penang", "Johor Bahru"),
    "PK": ("Lahore", "Sialkot", "Karachi"),
}
_SELLER_SUFFIX = {"CN": "Co., Ltd", "HK": "Ltd", "VN": "JSC", "KR": "Co., Ltd", "IN": "Pvt Ltd",
                  "TH": "Co., Ltd", "BD": "Ltd", "TW": "Corp.", "JP": "K.K.", "MY": "Sdn Bhd",
                  "PK": "Works"}
_SELLER_WORDS = ("Sunrise", "Brightway", "Lotus", "Everbright", "Harbour", "Coastline",
                 "Golden", "Jade", "Silver", "Dragon", "Phoenix", "Pearl", "Orient", "Unity",
                 "Prosper", "Harmony", "Bluesky", "Greenleaf", "Starlight", "Evergreen",
                 "Fortune", "Peak", "Zenith", "Apex", "Maple", "Bamboo", "Crystal", "Ocean",
                 "Summit", "Rainbow", "Lucky", "Royal", "Happy", "Smart", "Vivid", "Nova")
_SELLER_TRADES = ("Trading", "E-Commerce", "Apparel", "Electronics", "Home Goods", "Footwear",
                  "Gadget", "Craft", "Textile", "Beauty", "Lifestyle", "Sports", "Toys",
                  "Household", "Technology", "Import & Export", "Supply Chain", "Industrial")
_SELLER_STREETS = ("Industrial Road", "Avenue", "North Road", "Street", "Boulevard",
                   "Science Park", "Export Zone")
SELLERS = 3000
_SELLER_SKEW = 1.05  # Zipf exponent of the sellers' shares


def seller_key(name: str, country: str) -> str:
    """The eligibility rules' shipper key, to keep generated sellers distinct."""
    return re.sub(r"[^A-Z0-9]", "", name.upper()) + "|" + country


def sellers(seed: int, count: int = SELLERS) -> pl.DataFrame:
    """bench.generate's sellers first, then generated ones; ``weight`` falls with rank."""
    rng = random.Random(f"{seed}:sellers")
    rows = [(s.name, s.address, s.city, s.country) for s in SHIPPERS]
    seen = {seller_key(name, country) for name, _, _, country in rows}
    countries = [c for c, _ in SELLER_COUNTRIES]
    shares = [w for _, w in SELLER_COUNTRIES]
    while len(rows) < count:
        country = rng.choices(countries, shares)[0]
        city = rng.choice(_SELLER_CITIES[country])
        name = (f"{city} {rng.choice(_SELLER_WORDS)} {rng.choice(_SELLER_TRADES)} "
                f"{_SELLER_SUFFIX[country]}")
        if seller_key(name, country) in seen:
            continue
        seen.add(seller_key(name, country))
        address = (f"No. {rng.randint(1, 399)} {rng.choice(_SELLER_WORDS)} "
                   f"{rng.choice(_SELLER_STREETS)}")
        rows.append((name, address, city, country))
    frame = pl.DataFrame(rows, schema=["name", "address", "city", "country"], orient="row")
    return frame.with_row_index("seller").with_columns(
        (1.0 / (pl.col("seller").cast(pl.Float64) + 1.0) ** _SELLER_SKEW).alias("weight"))


def _declared(full_description: str) -> str:
    """A declaration in the schedule's words: the heading's first item and the line's own
    text, without footnote numbers."""
    parts = [re.sub(r"<[^>]+>|\(\d+\)", "", p).strip(" :;,") for p in
             full_description.split(" > ")]
    head = re.split(r"[,;:(]", parts[0])[0].strip()
    leaves = [p for p in parts[1:] if p and not p.lower().startswith("other")]
    leaf = leaves[-1] if leaves else ""
    text = head if not leaf or leaf.lower() in head.lower() else f"{head}, {leaf}"
    return text[:80]


def long_tail(path: Path | None, seed: int, count: int = LONG_TAIL_LINES) -> list[Product]:
    """Other statistical lines of the schedule in consumer-goods chapters, with prices and
    weights drawn per line (none without the schedule file)."""
    if path is None or not path.exists():
        return []
    known = {p.hts.replace(".", "") for p in (*PRODUCTS, *EXTRA_PRODUCTS)}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = sorted({(str(r["code"]), str(r["full_description"]))
                        for r in parse_schedule(fh)
                        if str(r["code"])[:2] in LONG_TAIL_CHAPTERS and r["code"] not in known})
    rng = random.Random(f"{seed}:long-tail")
    chosen = rng.sample(lines, min(count, len(lines)))
    out = []
    for code, full in sorted(chosen):
        low = rng.randint(200, 5000)
        out.append(Product(f"{code[:4]}.{code[4:6]}.{code[6:8]}.{code[8:]}", _declared(full),
                           low, low * rng.randint(2, 4), round(rng.uniform(0.05, 2.0), 2)))
    return out


def goods(products: Iterable[Product], extra: Iterable[Product], tail: Iterable[Product]
          ) -> pl.DataFrame:
    """One row per product with its share of lines (``weight``)."""
    groups = [list(products), list(extra), list(tail)]
    rows = []
    for share, group in zip(GOODS_SHARES, groups, strict=True):
        codes = [p.hts.replace(".", "") for p in group]
        weights = [RARE_GOODS.get(code, 1.0) for code in codes]
        rows += [(code, p.description, p.low_cents, p.high_cents, p.weight_kg,
                  share * w / sum(weights)) for code, p, w in zip(codes, group, weights,
                                                                  strict=True)]
    return pl.DataFrame(rows, orient="row", schema={
        "hts_code": pl.String, "description": pl.String, "low_cents": pl.Int64,
        "high_cents": pl.Int64, "weight_kg": pl.Float64, "weight": pl.Float64})
