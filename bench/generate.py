"""Deterministic generator of realistic forwarder manifests of any size.

    python -m bench.generate --rows 1000000 --seed 1 --out bench/out/manifest.csv
    python -m bench.generate --rows 1000000 --out m.csv --companion m-companion.csv

The file has the layout of ../shared/samples/lax_2025-04-15_clean.csv: one commodity line
per row, rows sharing a HAWB number form one HAWB (1-5 lines, 2.55 on average). Nearly
every HAWB goes to a new consignee (2% to one already in the file). The companion is a
smaller manifest of the same day whose consignees are 5% of the file's, written
differently. The same seed always gives the same bytes. Rows are streamed to disk, so
memory use does not grow with the row count.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import string
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple, TypedDict

HEADER = (
    "MAWB No", "Flight No", "Flight Date", "Port of Arrival", "HAWB No", "Line No",
    "Shipper Name", "Shipper Address", "Shipper City", "Shipper Country",
    "Consignee Name", "Consignee Address 1", "Consignee Address 2", "Consignee City",
    "Consignee State", "Consignee Zip", "Consignee Country", "Consignee Phone",
    "Consignee Email", "Pieces", "Gross Weight (KG)", "Description", "HS Code",
    "Country of Origin", "Quantity", "Unit", "Value", "Currency", "Last Mile Carrier",
    "Tracking No",
)
_COL = {name: i for i, name in enumerate(HEADER)}


class Product(NamedTuple):
    hts: str
    description: str
    low_cents: int  # unit price range, fair retail value in USD
    high_cents: int
    weight_kg: float


# Real 10-digit statistical lines of the HTSUS (2024 basic edition) that e-commerce parcels
# typically carry. Copied here on purpose: the generator must not depend on that file.
PRODUCTS: tuple[Product, ...] = (
    # apparel
    Product("6109.10.00.12", "Men's cotton crew-neck T-shirt", 600, 2500, 0.20),
    Product("6109.10.00.40", "Women's cotton T-shirt", 600, 2500, 0.18),
    Product("6109.90.10.07", "Men's polyester sports T-shirt", 800, 3000, 0.18),
    Product("6109.90.10.50", "Women's polyester yoga top", 800, 3000, 0.15),
    Product("6110.20.20.69", "Men's cotton pullover hoodie", 1800, 5500, 0.60),
    Product("6110.20.20.79", "Women's cotton cardigan", 1500, 4500, 0.45),
    Product("6110.30.30.41", "Men's fleece sweatshirt", 1500, 4500, 0.55),
    Product("6110.30.30.20", "Women's acrylic knit sweater", 1500, 5000, 0.45),
    Product("6105.10.00.10", "Men's cotton polo shirt", 1000, 3500, 0.25),
    Product("6106.10.00.10", "Women's cotton knit blouse", 1000, 3500, 0.20),
    Product("6205.20.20.67", "Men's cotton casual shirt", 1200, 4000, 0.30),
    Product("6203.42.45.11", "Men's blue denim jeans", 1800, 6000, 0.70),
    Product("6204.62.80.11", "Women's blue denim jeans", 1800, 6000, 0.60),
    Product("6203.42.45.51", "Men's cotton shorts", 1000, 3000, 0.30),
    Product("6204.43.40.30", "Women's polyester summer dress", 1500, 6000, 0.35),
    Product("6104.63.20.11", "Women's knit leggings", 800, 2500, 0.20),
    Product("6108.31.00.10", "Women's cotton pajama set", 1200, 3500, 0.40),
    Product("6112.41.00.10", "Women's one-piece swimsuit", 1200, 4000, 0.20),
    Product("6212.10.90.20", "Wireless bra, nylon", 800, 3000, 0.10),
    Product("6115.95.90.00", "Cotton crew socks, 6 pairs", 600, 1800, 0.30),
    Product("6115.96.90.20", "Polyester ankle socks, 5 pairs", 500, 1500, 0.25),
    Product("6116.93.08.00", "Touchscreen gloves", 600, 2000, 0.10),
    Product("6505.00.60.90", "Knitted beanie hat", 500, 2000, 0.10),
    Product("6117.10.60.20", "Fashion scarf, polyester", 500, 2500, 0.15),
    Product("6117.80.85.00", "Hair scrunchies, pack of 10", 300, 1000, 0.10),
    # footwear
    Product("6404.19.90.60", "Women's canvas sneakers", 2000, 6000, 0.80),
    Product("6404.11.69.30", "Men's running shoes", 2500, 9000, 0.90),
    Product("6404.11.69.60", "Women's running shoes", 2500, 9000, 0.80),
    Product("6402.99.31.65", "Women's rubber rain boots", 1500, 4500, 1.00),
    Product("6402.20.00.00", "Flip-flop sandals", 400, 1500, 0.30),
    Product("6403.99.60.75", "Men's leather casual shoes", 3500, 12000, 1.10),
    # bags and accessories
    Product("4202.22.40.30", "Tote handbag, polyester", 1000, 4500, 0.40),
    Product("4202.92.31.20", "Polyester laptop backpack", 1500, 6000, 0.80),
    Product("4202.21.90.00", "Leather crossbody bag", 3000, 12000, 0.50),
    Product("4202.32.10.00", "Card holder wallet, PU", 400, 1500, 0.05),
    Product("9004.10.00.00", "Polarized sunglasses", 500, 3000, 0.10),
    Product("7117.19.90.00", "Fashion necklace, base metal", 400, 2000, 0.05),
    Product("7113.11.50.00", "Sterling silver ring", 1500, 8000, 0.02),
    Product("9102.12.80.00", "Digital sports watch", 1000, 4000, 0.10),
    Product("9615.11.40.00", "Plastic hair claw clips, set of 6", 300, 1200, 0.10),
    # electronics and small appliances
    Product("8518.30.20.00", "Wireless bluetooth earbuds with charging case", 1500, 8000, 0.15),
    Product("8518.22.00.00", "Bluetooth party speaker", 2000, 9000, 1.00),
    Product("8518.21.00.00", "Portable mini speaker", 1000, 4000, 0.30),
    Product("8517.13.00.00", "Smartphone, unlocked, 128 GB", 12000, 65000, 0.40),
    Product("8517.62.00.90", "Smartwatch fitness tracker", 2000, 12000, 0.10),
    Product("8471.30.01.00", "Portable laptop computer 14 inch", 25000, 78000, 1.60),
    Product("8471.60.20.00", "Wireless keyboard", 1200, 5000, 0.50),
    Product("8471.60.90.50", "Wireless optical mouse", 600, 2500, 0.10),
    Product("8504.40.95.10", "USB-C wall charger 20W", 600, 2500, 0.10),
    Product("8507.60.00.20", "Power bank 10000mAh", 1200, 4000, 0.25),
    Product("8523.51.00.00", "USB flash drive 64 GB", 500, 2000, 0.03),
    Product("8544.42.90.90", "USB-C charging cable 1 m", 300, 1200, 0.05),
    Product("8525.89.40.00", "Action camera 4K", 3000, 12000, 0.20),
    Product("8516.31.00.00", "Ionic hair dryer", 1500, 6000, 0.70),
    Product("8516.32.00.40", "Hair straightener flat iron", 1200, 5000, 0.50),
    Product("8509.80.50.45", "Electric toothbrush, rechargeable", 1500, 6000, 0.30),
    Product("8510.10.00.00", "Electric shaver", 2000, 8000, 0.40),
    Product("8509.40.00.15", "Portable blender", 1500, 4000, 0.90),
    Product("8513.10.20.00", "Rechargeable LED flashlight", 500, 2500, 0.20),
    Product("9405.41.84.40", "LED desk lamp, USB powered", 1000, 4500, 0.80),
    Product("9018.90.80.00", "Fingertip pulse oximeter", 1000, 3000, 0.10),
    Product("9504.50.00.00", "Handheld game console", 3000, 15000, 0.40),
    # toys and sports
    Product("9503.00.00.73", "Plastic building block set, ages 6+", 800, 6000, 0.60),
    Product("9503.00.00.71", "Baby stacking toy", 500, 2000, 0.30),
    Product("9503.00.00.90", "Jigsaw puzzle, 1000 pieces", 800, 2500, 0.70),
    Product("9504.40.00.00", "Playing cards, 2 decks", 200, 1000, 0.20),
    Product("9506.91.00.30", "Resistance bands set", 600, 2500, 0.40),
    Product("9506.62.40.80", "Soccer ball, size 5", 1000, 3500, 0.45),
    # cosmetics and personal care
    Product("3304.20.00.00", "Eyeshadow makeup palette", 600, 3000, 0.20),
    Product("3304.10.00.00", "Matte liquid lipstick", 400, 2000, 0.05),
    Product("3304.30.00.00", "Nail polish set", 400, 2000, 0.20),
    Product("3304.99.50.00", "Sheet face masks, pack of 10", 500, 2500, 0.25),
    Product("3305.10.00.00", "Shampoo 500 ml", 500, 2000, 0.60),
    Product("3307.20.00.00", "Deodorant stick", 300, 1200, 0.10),
    Product("3303.00.30.00", "Eau de parfum 50 ml", 1500, 8000, 0.30),
    Product("3306.10.00.00", "Whitening toothpaste", 300, 1000, 0.15),
    Product("9603.21.00.00", "Toothbrushes, pack of 4", 300, 1000, 0.10),
    Product("9616.20.00.00", "Makeup sponge set", 300, 1200, 0.05),
    # books and stationery
    Product("4901.99.00.93", "Paperback novel, 320 pages", 800, 2500, 0.40),
    Product("4903.00.00.00", "Children's coloring book", 300, 1200, 0.20),
    Product("4820.10.20.10", "Hardcover diary planner", 500, 2000, 0.30),
    Product("9608.10.00.00", "Gel ball point pens, 12 pack", 300, 1000, 0.15),
    Product("9609.10.00.00", "Colored pencils, set of 48", 500, 1800, 0.40),
    # household
    Product("3924.10.40.00", "Silicone kitchen utensil set", 800, 3000, 0.60),
    Product("3924.90.56.50", "Plastic storage bins, set of 3", 800, 3000, 0.80),
    Product("7323.93.00.80", "Stainless steel water bottle 750ml", 800, 3000, 0.40),
    Product("9617.00.10.00", "Vacuum insulated tumbler 500ml", 800, 3000, 0.40),
    Product("6912.00.48.10", "Ceramic coffee mug", 500, 1800, 0.40),
    Product("7013.37.20.90", "Drinking glasses, set of 4", 600, 2000, 1.00),
    Product("6302.60.00.20", "Cotton bath towel", 800, 2500, 0.60),
    Product("6304.93.00.00", "Polyester cushion cover", 400, 1500, 0.20),
    Product("9404.90.20.30", "Memory foam pillow", 1500, 4500, 1.20),
    Product("3926.90.99.85", "Silicone phone case", 300, 1500, 0.05),
)


class Shipper(NamedTuple):
    name: str
    address: str
    city: str
    country: str
    origins: tuple[str, ...]  # countries of origin of its goods, drawn uniformly
    weight: int  # share of HAWBs


_CN = ("CN",) * 9 + ("VN",)
SHIPPERS: tuple[Shipper, ...] = (
    Shipper("Yiwu Sunrise Trading Co., Ltd", "No. 88 Chouzhou North Road", "Yiwu", "CN",
            _CN, 14),
    Shipper("Shenzhen Brightway E-Commerce Co., Ltd", "Bldg 7, Longgang Industrial Park",
            "Shenzhen", "CN", ("CN",), 14),
    Shipper("Guangzhou Lotus Apparel Co., Ltd", "123 Huangpu Avenue West", "Guangzhou", "CN",
            ("CN",) * 4 + ("BD",), 10),
    Shipper("Dongguan Everbright Electronics Co., Ltd", "18 Chang'an Xiaobian Road",
            "Dongguan", "CN", ("CN",), 8),
    Shipper("Ningbo Harbour Home Goods Co., Ltd", "66 Jiangnan Road, Beilun District",
            "Ningbo", "CN", _CN, 6),
    Shipper("Xiamen Coastline Footwear Co., Ltd", "9 Xianghai Road, Huli District", "Xiamen",
            "CN", ("CN", "CN", "VN"), 4),
    Shipper("Kowloon Gadget Hub Ltd", "Flat B, 12/F, 68 Nathan Road, Tsim Sha Tsui",
            "Hong Kong", "HK", ("CN", "CN", "CN", "HK"), 6),
    Shipper("Pacific Rim Fulfilment (HK) Ltd", "Unit 1203, 9 Wing Hong Street",
            "Hong Kong", "HK", ("CN", "HK", "TW", "KR"), 4),
    Shipper("Saigon Craft Export JSC", "45 Nguyen Van Linh, District 7", "Ho Chi Minh City",
            "VN", ("VN", "VN", "VN", "CN"), 6),
    Shipper("Hanoi Green Textile Co., Ltd", "12 Pham Van Dong, Cau Giay", "Hanoi", "VN",
            ("VN",), 4),
    Shipper("Seoul Beauty Lab Co., Ltd", "221 Teheran-ro, Gangnam-gu", "Seoul", "KR",
            ("KR",), 5),
    Shipper("Busan K-Style Trading Co.", "33 Jungang-daero, Jung-gu", "Busan", "KR",
            ("KR", "KR", "CN"), 3),
    Shipper("Mumbai Spice Route Exports Pvt Ltd", "Unit 4, Andheri Kurla Road", "Mumbai",
            "IN", ("IN",), 3),
    Shipper("Jaipur Handloom House", "27 MI Road", "Jaipur", "IN", ("IN",), 2),
    Shipper("Bangkok Siam Lifestyle Co., Ltd", "88 Sukhumvit Soi 21", "Bangkok", "TH",
            ("TH", "TH", "CN"), 3),
    Shipper("Chiang Mai Artisan Goods Ltd", "5 Nimmanhaemin Road", "Chiang Mai", "TH",
            ("TH",), 1),
    Shipper("Dhaka Knit Garments Ltd", "Plot 5, Ashulia Road", "Dhaka", "BD", ("BD",), 2),
    Shipper("Taipei Smart Devices Corp.", "No. 100, Section 1, Keelung Road", "Taipei", "TW",
            ("TW", "CN"), 2),
    Shipper("Osaka Hobby Direct K.K.", "2-3-1 Nipponbashi, Naniwa-ku", "Osaka", "JP",
            ("JP", "CN"), 1),
    Shipper("Kuala Lumpur Home Essentials Sdn Bhd", "Lot 12, Jalan Klang Lama",
            "Kuala Lumpur", "MY", ("MY", "CN"), 1),
    Shipper("Lahore Sports Works", "31 Ferozepur Road", "Lahore", "PK", ("PK",), 1),
)

# (city, USPS state code, first three digits of its ZIP codes)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("New York", "NY", "100"), ("Brooklyn", "NY", "112"), ("Flushing", "NY", "113"),
    ("Buffalo", "NY", "142"), ("Los Angeles", "CA", "900"), ("San Jose", "CA", "951"),
    ("San Francisco", "CA", "941"), ("San Diego", "CA", "921"), ("Sacramento", "CA", "958"),
    ("Fresno", "CA", "937"), ("Chicago", "IL", "606"), ("Houston", "TX", "770"),
    ("Dallas", "TX", "752"), ("Austin", "TX", "787"), ("San Antonio", "TX", "782"),
    ("Phoenix", "AZ", "850"), ("Tucson", "AZ", "857"), ("Philadelphia", "PA", "191"),
    ("Pittsburgh", "PA", "152"), ("Jacksonville", "FL", "322"), ("Miami", "FL", "331"),
    ("Orlando", "FL", "328"), ("Tampa", "FL", "336"), ("Columbus", "OH", "432"),
    ("Cleveland", "OH", "441"), ("Indianapolis", "IN", "462"), ("Charlotte", "NC", "282"),
    ("Raleigh", "NC", "276"), ("Seattle", "WA", "981"), ("Spokane", "WA", "992"),
    ("Denver", "CO", "802"), ("Washington", "DC", "200"), ("Boston", "MA", "021"),
    ("Worcester", "MA", "016"), ("Nashville", "TN", "372"), ("Memphis", "TN", "381"),
    ("Detroit", "MI", "482"), ("Portland", "OR", "972"), ("Las Vegas", "NV", "891"),
    ("Louisville", "KY", "402"), ("Baltimore", "MD", "212"), ("Milwaukee", "WI", "532"),
    ("Albuquerque", "NM", "871"), ("Atlanta", "GA", "303"), ("Kansas City", "MO", "641"),
    ("Omaha", "NE", "681"), ("Minneapolis", "MN", "554"), ("New Orleans", "LA", "701"),
    ("Newark", "NJ", "071"), ("Jersey City", "NJ", "073"), ("Providence", "RI", "029"),
    ("Hartford", "CT", "061"), ("Salt Lake City", "UT", "841"), ("Honolulu", "HI", "968"),
    ("Anchorage", "AK", "995"), ("Birmingham", "AL", "352"), ("Richmond", "VA", "232"),
    ("Virginia Beach", "VA", "234"), ("Oklahoma City", "OK", "731"), ("Boise", "ID", "837"),
    ("Des Moines", "IA", "503"), ("Little Rock", "AR", "722"), ("Charleston", "SC", "294"),
    ("Burlington", "VT", "054"), ("Portland", "ME", "041"), ("Manchester", "NH", "031"),
    ("Wilmington", "DE", "198"), ("Fargo", "ND", "581"), ("Sioux Falls", "SD", "571"),
    ("Billings", "MT", "591"), ("Cheyenne", "WY", "820"), ("Charleston", "WV", "253"),
    ("Jackson", "MS", "392"), ("Wichita", "KS", "672"), ("San Juan", "PR", "009"),
)

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Christopher", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony",
    "Betty", "Mark", "Sandra", "Steven", "Ashley", "Kevin", "Emily", "Brian", "Michelle",
    "Carlos", "Maria", "José", "Sofía", "Luis", "Ana", "Wei", "Mei", "Hiroshi", "Yuki",
    "Priya", "Arjun", "Aisha", "Omar", "Fatima", "Grace", "Olivia", "Liam", "Noah", "Emma",
    "Ava", "Mia", "Ethan", "Chloé", "Zoë", "Andrés", "Minh", "Linh", "Ji-woo", "Seo-yeon",
    "Kwame", "Amara", "Dmitri", "Anya", "Mateo", "Valentina", "Isaac", "Hannah", "Tyler",
    "Brianna", "Jamal", "Keisha", "Connor", "Siobhan", "Raj", "Deepa",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Chen",
    "Wang", "Kim", "Park", "Patel", "Shah", "Singh", "Tanaka", "Sato", "Tran", "Pham",
    "O'Brien", "O'Connor", "Murphy", "Kowalski", "Novak", "Ivanov", "Müller", "Schmidt",
    "Rossi", "Silva", "Santos", "Okafor", "Mensah", "Haddad", "Khan", "Cohen", "Levy",
    "Fernández", "Peña",
)
STREETS = (
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park",
    "Sunset", "Lincoln", "Jefferson", "Madison", "Franklin", "Highland", "Lakeview", "River",
    "Spring", "Church", "Walnut", "Chestnut", "Willow", "Meadow", "Forest", "Ridge",
    "Valley", "Broadway", "Market", "Mill", "Center", "Union", "Cherry", "Dogwood", "Magnolia",
    "Harbor", "Bay", "Sycamore", "Birch", "Aspen",
)
STREET_KINDS = ("Street", "Avenue", "Road", "Drive", "Lane", "Court", "Boulevard", "Way",
                "Place", "Terrace")
UNIT_KINDS = ("Apt", "Apt", "Apt", "Unit", "Suite", "#")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# Last-mile carriers and their share of HAWBs.
CARRIERS = ("USPS", "UPS", "FEDEX", "DHL", "ONTRAC")
CARRIER_CUM_WEIGHTS = (30, 50, 65, 85, 100)
LINE_COUNTS = (1, 2, 3, 4, 5)
LINE_CUM_WEIGHTS = (25, 55, 75, 90, 100)  # mean 2.55 lines per HAWB
QUANTITIES = (1, 2, 3, 4, 5, 6)
QUANTITY_CUM_WEIGHTS = (70, 88, 96, 98, 99, 100)
_ONE_AT_A_TIME_CENTS = 10_000  # nobody orders six laptops in one parcel

# IATA airline prefix of a MAWB -> designator of the airline's flights.
AIRLINES = {"297": "CI", "160": "CX", "180": "KE", "988": "OZ", "784": "CZ", "999": "CA",
            "738": "VN", "217": "TG", "618": "SQ", "695": "BR"}
_ALNUM = string.ascii_uppercase + string.digits


# How a forwarder may write a street suffix or a unit instead of the way the shop did: the
# service's consignee key must see through these (case, spacing, USPS abbreviations).
SUFFIX_ABBREVIATIONS = {
    "Street": "St", "Avenue": "Ave", "Road": "Rd", "Drive": "Dr", "Lane": "Ln",
    "Court": "Ct", "Boulevard": "Blvd", "Place": "Pl", "Terrace": "Ter", "Way": "Way",
}
UNIT_SPELLINGS = {"Apt": ("Apartment", "APT", "Apt."), "Unit": ("UNIT", "unit"),
                  "Suite": ("Ste", "STE", "Ste."), "#": ("#",)}
MODEST_PRODUCTS = tuple(p for p in PRODUCTS if p.high_cents <= 6000)
MODEST_LINE_CUM_WEIGHTS = (60, 90, 100, 100, 100)  # 1-3 lines, 1.5 on average
GENERATOR_VERSION = 2  # bump when the same arguments give different bytes

Consignee = tuple[str, ...]  # name, address 1-2, city, state, zip, country, phone, e-mail
_NAME, _ADDRESS1, _ADDRESS2, _CITY, _STATE, _ZIP = range(6)


class CompanionStats(TypedDict):
    """The second manifest of the same day, for "one person, one day" across manifests."""

    path: str
    rows: int
    hawbs: int
    consignees: int  # each one of the main file's consignees, one HAWB each
    written_differently: int  # consignees not written as in the main file
    variations: dict[str, int]
    mawb: str
    flight_no: str
    arrival_date: str
    port: str
    size_bytes: int


class Stats(TypedDict):
    generator: int
    path: str
    rows: int
    hawbs: int
    error_rows: int
    errors_by_kind: dict[str, int]
    consignee_pool: int | None  # None: a new consignee per HAWB, bar the repeats
    consignees: int  # distinct consignees in the file
    repeat_hawbs: int  # HAWBs whose consignee already had a HAWB earlier in the file
    mawb: str
    flight_no: str
    arrival_date: str
    port: str
    size_bytes: int
    seconds: float
    companion: CompanionStats | None


def mawb_check_digit(serial: int) -> int:
    return serial % 7


def normalise_mawb(value: str) -> str:
    """``297-75589382`` or ``29775589382`` -> the dashed form; refuses a bad check digit."""
    digits = re.sub(r"[\s\-]", "", value)
    if not (len(digits) == 11 and digits.isdigit()):
        raise ValueError(f"MAWB {value!r} is not 11 digits")
    if mawb_check_digit(int(digits[3:10])) != int(digits[10]):
        raise ValueError(f"MAWB {value!r} fails its check digit (serial mod 7)")
    return f"{digits[:3]}-{digits[3:]}"


def _random_mawb(rng: random.Random) -> str:
    prefix = rng.choice(sorted(AIRLINES))
    serial = rng.randrange(10**7)
    return f"{prefix}-{serial:07d}{mawb_check_digit(serial)}"


def _flight_for(rng: random.Random, mawb: str) -> str:
    return f"{AIRLINES.get(mawb[:3], '5Y')}{rng.randint(100, 9899)}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


def _new_consignee(rng: random.Random) -> Consignee:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, zip3 = rng.choice(CITIES)
    line2 = ""
    if rng.random() < 0.4:
        line2 = f"{rng.choice(UNIT_KINDS)} {rng.randint(1, 40)}"
    return (
        f"{first} {last}",
        f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
        line2,
        city,
        state,
        f"{zip3}{rng.randrange(100):02d}",
        "US",
        f"+1{rng.randint(201, 989)}{rng.randrange(10**7):07d}",
        f"{_ascii(first)}.{_ascii(last)}{rng.randrange(1000)}@{rng.choice(EMAIL_DOMAINS)}",
    )


def _consignee_pool(rng: random.Random, count: int) -> list[Consignee]:
    return [_new_consignee(rng) for _ in range(count)]


def written_differently(rng: random.Random, consignee: Consignee) -> tuple[Consignee, list[str]]:
    """The same person and address as another shop or forwarder might write it: case,
    spacing, a USPS suffix abbreviation, another spelling of the unit, the unit on line 1,
    ZIP+4. The service's consignee key (NAME|STREET|ZIP5) is the same for both."""
    c = list(consignee)
    kinds: list[str] = []
    if rng.random() < 0.2:
        c[_NAME] = c[_NAME].upper() if rng.random() < 0.5 else c[_NAME].lower()
        kinds.append("name_case")
    if rng.random() < 0.15:
        c[_NAME] = " " + c[_NAME].replace(" ", "  ") + " "
        kinds.append("name_spacing")
    number_street, kind = c[_ADDRESS1].rsplit(" ", 1)
    if rng.random() < 0.35 and SUFFIX_ABBREVIATIONS[kind] != kind:
        kind = SUFFIX_ABBREVIATIONS[kind] + ("." if rng.random() < 0.5 else "")
        kinds.append("suffix_abbreviated")
    c[_ADDRESS1] = f"{number_street} {kind}"
    if rng.random() < 0.15:
        c[_ADDRESS1] = c[_ADDRESS1].upper()
        kinds.append("address_case")
    if c[_ADDRESS2]:
        unit, number = c[_ADDRESS2].split(" ")
        if rng.random() < 0.3:
            spelling = rng.choice(UNIT_SPELLINGS[unit])
            c[_ADDRESS2] = f"{spelling}{number}" if spelling == "#" else f"{spelling} {number}"
            kinds.append("unit_spelling")
        if rng.random() < 0.15:
            c[_ADDRESS1], c[_ADDRESS2] = f"{c[_ADDRESS1]}, {c[_ADDRESS2]}", ""
            kinds.append("unit_on_line_1")
    if rng.random() < 0.2:
        c[_ZIP] = f"{c[_ZIP]}-{rng.randrange(10**4):04d}"
        kinds.append("zip_plus_4")
    if rng.random() < 0.1:
        c[_CITY] = c[_CITY].upper()
        kinds.append("city_case")
    return tuple(c), kinds


class _Consignees:
    """Who each HAWB goes to. By default a new consignee per HAWB, except a share
    ``repeat_share`` of HAWBs that go to someone who already has a HAWB in the file (two
    orders from two shops on the same flight), drawn from the last 50,000 consignees. With
    ``pool`` the HAWBs draw from a fixed pool of that many consignees instead.

    Every ``share``-th distinct consignee (exactly, by count) is kept for the companion
    manifest: memory stays proportional to that share, not to the file."""

    RECENT = 50_000

    def __init__(self, rng: random.Random, pool: int | None, repeat_share: float,
                 shared_share: float) -> None:
        self.rng = rng
        self.pool = _consignee_pool(rng, pool) if pool else None
        self.seen_in_pool: set[int] = set()
        self.repeat_share = repeat_share
        share = Fraction(shared_share).limit_denominator(10**6)
        self.share_num, self.share_den = share.numerator, share.denominator
        self.recent: list[Consignee] = []
        self.distinct = 0
        self.repeats = 0
        self.shared: list[Consignee] = []

    def _first_seen(self, consignee: Consignee) -> Consignee:
        i = self.distinct
        self.distinct += 1
        if (i + 1) * self.share_num // self.share_den > i * self.share_num // self.share_den:
            self.shared.append(consignee)
        return consignee

    def next(self) -> Consignee:
        rng = self.rng
        if self.pool is not None:
            index = rng.randrange(len(self.pool))
            if index in self.seen_in_pool:
                self.repeats += 1
                return self.pool[index]
            self.seen_in_pool.add(index)
            return self._first_seen(self.pool[index])
        if self.recent and rng.random() < self.repeat_share:
            self.repeats += 1
            consignee = rng.choice(self.recent)
            return written_differently(rng, consignee)[0] if rng.random() < 0.3 else consignee
        consignee = self._first_seen(_new_consignee(rng))
        if len(self.recent) < self.RECENT:
            self.recent.append(consignee)
        else:
            self.recent[self.distinct % self.RECENT] = consignee
        return consignee


def _tracking_no(rng: random.Random, carrier: str) -> str:
    if carrier == "UPS":
        return "1Z" + "".join(rng.choices(_ALNUM, k=16))
    if carrier == "FEDEX":
        return f"{rng.randrange(10**12):012d}"
    if carrier == "DHL":
        return f"GM{rng.randrange(10**16):016d}"
    if carrier == "USPS":
        return f"9400{rng.randrange(10**18):018d}"
    return f"C{rng.randrange(10**14):014d}"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _hts_8_digits(row: list[str]) -> None:
    row[_COL["HS Code"]] = row[_COL["HS Code"]][:10]  # "6109.10.00.12" -> "6109.10.00"


def _negative_value(row: list[str]) -> None:
    row[_COL["Value"]] = "-" + row[_COL["Value"]]


def _decimal_comma(row: list[str]) -> None:
    row[_COL["Value"]] = row[_COL["Value"]].replace(".", ",")


def _missing_consignee_name(row: list[str]) -> None:
    row[_COL["Consignee Name"]] = ""


def _unknown_country(row: list[str]) -> None:
    row[_COL["Country of Origin"]] = "XX"


def _zero_quantity(row: list[str]) -> None:
    row[_COL["Quantity"]] = "0"


# Each injected mistake makes exactly one row error in the service's report.
_ERRORS: dict[str, Callable[[list[str]], None]] = {
    "hts_8_digits": _hts_8_digits,
    "negative_value": _negative_value,
    "decimal_comma": _decimal_comma,
    "missing_consignee_name": _missing_consignee_name,
    "unknown_country": _unknown_country,
    "zero_quantity": _zero_quantity,
}
ERROR_KINDS = tuple(_ERRORS)


class _Hawbs:
    """Builds the rows of one HAWB at a time from precomputed pools."""

    def __init__(self, rng: random.Random, manifest: Sequence[str], error_rate: float,
                 prefix: str, products: Sequence[Product] = PRODUCTS,
                 line_cum_weights: Sequence[int] = LINE_CUM_WEIGHTS) -> None:
        self.rng = rng
        self.manifest = list(manifest)
        self.shippers = [s for s in SHIPPERS for _ in range(s.weight)]
        self.products = products
        self.line_cum_weights = line_cum_weights
        self.error_rate = error_rate
        self.errors_by_kind = dict.fromkeys(ERROR_KINDS, 0)
        self.prefix = prefix
        self.next_no = rng.randrange(10**6)

    def rows(self, limit: int, consignee: Consignee) -> list[list[str]]:
        rng = self.rng
        count = min(rng.choices(LINE_COUNTS, cum_weights=self.line_cum_weights)[0], limit)
        shipper = rng.choice(self.shippers)
        carrier = rng.choices(CARRIERS, cum_weights=CARRIER_CUM_WEIGHTS)[0]
        lines = []
        weight = 0.1  # packaging
        for _ in range(count):
            product = rng.choice(self.products)
            qty = rng.choices(QUANTITIES, cum_weights=QUANTITY_CUM_WEIGHTS)[0]
            if product.high_cents > _ONE_AT_A_TIME_CENTS:
                qty = 1
            value = rng.randint(product.low_cents, product.high_cents) * qty
            weight += product.weight_kg * qty
            lines.append((product, qty, value, rng.choice(shipper.origins)))
        hawb = [
            *self.manifest, f"{self.prefix}{self.next_no:07d}", "",
            shipper.name, shipper.address, shipper.city, shipper.country,
            *consignee,
            "2" if count >= 3 and rng.random() < 0.3 else "1", f"{weight:.2f}",
        ]
        tail = ["PCS", "", "USD", carrier, _tracking_no(rng, carrier)]
        self.next_no += 1
        out = []
        for line_no, (product, qty, value, origin) in enumerate(lines, 1):
            hawb[_COL["Line No"]] = str(line_no)
            tail[1] = _money(value)
            row = [*hawb, product.description, product.hts, origin, str(qty), *tail]
            if self.error_rate and rng.random() < self.error_rate:
                kind = rng.choice(ERROR_KINDS)
                _ERRORS[kind](row)
                self.errors_by_kind[kind] += 1
            out.append(row)
        return out


def _atomic_csv(path: Path) -> tuple[Path, Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, path.with_name(path.name + ".tmp")


def _write_companion(path: Path, seed: int, shared: Sequence[Consignee], main_mawb: str,
                     arrival_date: str, port: str) -> CompanionStats:
    """One HAWB of modest value for each of ``shared``, on another MAWB and flight of the
    same day, about half of the consignees written differently. Its own random stream, so
    it does not change the main file."""
    rng = random.Random(f"{seed}:companion")
    mawb = _random_mawb(rng)
    while mawb == main_mawb:
        mawb = _random_mawb(rng)
    flight_no = _flight_for(rng, mawb)
    order = list(shared)
    rng.shuffle(order)
    builder = _Hawbs(rng, (mawb, flight_no, arrival_date, port), 0.0, f"C{port[:1]}",
                     MODEST_PRODUCTS, MODEST_LINE_CUM_WEIGHTS)
    variations: dict[str, int] = {}
    changed = rows = 0
    path, tmp = _atomic_csv(path)
    with tmp.open("w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for consignee in order:
            variant, kinds = written_differently(rng, consignee)
            changed += bool(kinds)
            for kind in kinds:
                variations[kind] = variations.get(kind, 0) + 1
            batch = builder.rows(5, variant)
            writer.writerows(batch)
            rows += len(batch)
    os.replace(tmp, path)
    return CompanionStats(
        path=str(path), rows=rows, hawbs=len(order), consignees=len(order),
        written_differently=changed, variations=dict(sorted(variations.items())), mawb=mawb,
        flight_no=flight_no, arrival_date=arrival_date, port=port,
        size_bytes=path.stat().st_size)


def generate(path: Path, rows: int, seed: int, *, mawb: str | None = None,
             flight_no: str | None = None, arrival_date: str = "2025-04-15",
             port: str = "LAX", error_rate: float = 0.01, consignees: int | None = None,
             repeat_share: float = 0.02, companion: Path | None = None,
             companion_share: float = 0.05) -> Stats:
    """Write a manifest of exactly ``rows`` rows to ``path`` (atomically) and describe it.
    With ``companion``, also write there a second manifest of the same day whose consignees
    are ``companion_share`` of this file's distinct consignees."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    if not 0 <= error_rate <= 1:
        raise ValueError("error_rate must be between 0 and 1")
    if not 0 <= repeat_share < 1:
        raise ValueError("repeat_share must be at least 0 and below 1")
    if not 0 < companion_share <= 1:
        raise ValueError("companion_share must be above 0 and at most 1")
    if consignees is not None and consignees < 1:
        raise ValueError("consignees must be at least 1")
    date.fromisoformat(arrival_date)
    port = port.upper()
    started = time.perf_counter()
    rng = random.Random(seed)
    mawb = normalise_mawb(mawb) if mawb else _random_mawb(rng)
    flight_no = flight_no or _flight_for(rng, mawb)
    builder = _Hawbs(rng, (mawb, flight_no, arrival_date, port), error_rate, f"H{port[:1]}")
    people = _Consignees(rng, consignees, repeat_share, companion_share)
    written = hawbs = 0
    path, tmp = _atomic_csv(path)
    with tmp.open("w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        while written < rows:
            batch = builder.rows(rows - written, people.next())
            writer.writerows(batch)
            written += len(batch)
            hawbs += 1
    os.replace(tmp, path)
    second = (_write_companion(companion, seed, people.shared, mawb, arrival_date, port)
              if companion is not None else None)
    return Stats(
        generator=GENERATOR_VERSION, path=str(path), rows=written, hawbs=hawbs,
        error_rows=sum(builder.errors_by_kind.values()),
        errors_by_kind=builder.errors_by_kind, consignee_pool=consignees,
        consignees=people.distinct, repeat_hawbs=people.repeats, mawb=mawb,
        flight_no=flight_no, arrival_date=arrival_date, port=port,
        size_bytes=path.stat().st_size, seconds=round(time.perf_counter() - started, 3),
        companion=second,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True, help="commodity lines to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mawb", help="e.g. 297-75589382 (default: drawn from the seed)")
    parser.add_argument("--flight", help="e.g. CI5148 (default: the MAWB's airline)")
    parser.add_argument("--arrival-date", default="2025-04-15", help="YYYY-MM-DD")
    parser.add_argument("--port", default="LAX", help="LAX, SFO, JFK or ATL")
    parser.add_argument("--error-rate", type=float, default=0.01,
                        help="share of rows carrying one mistake (default 0.01)")
    parser.add_argument("--repeat-consignees", type=float, default=0.02,
                        help="share of HAWBs going to a consignee who already has one in the "
                        "file (default 0.02); the others each get a new consignee")
    parser.add_argument("--consignees", type=int,
                        help="draw consignees from a fixed pool of this size instead (the "
                        "generator's old behaviour was 40000)")
    parser.add_argument("--companion", type=Path,
                        help="also write a second manifest of the same day here")
    parser.add_argument("--companion-share", type=float, default=0.05,
                        help="share of the file's distinct consignees that the companion "
                        "manifest ships to (default 0.05)")
    args = parser.parse_args(argv)
    try:
        stats = generate(args.out, args.rows, args.seed, mawb=args.mawb,
                         flight_no=args.flight, arrival_date=args.arrival_date,
                         port=args.port, error_rate=args.error_rate,
                         consignees=args.consignees, repeat_share=args.repeat_consignees,
                         companion=args.companion, companion_share=args.companion_share)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{stats['path']}: {stats['rows']:,} rows, {stats['hawbs']:,} HAWBs to "
          f"{stats['consignees']:,} consignees ({stats['repeat_hawbs']:,} repeat HAWBs), "
          f"{stats['error_rows']:,} rows with an error, MAWB {stats['mawb']} "
          f"{stats['flight_no']} {stats['arrival_date']} {stats['port']}, "
          f"{stats['size_bytes'] / 2**20:.1f} MiB in {stats['seconds']:.1f} s", file=sys.stderr)
    if (c := stats["companion"]) is not None:
        print(f"{c['path']}: {c['rows']:,} rows, {c['hawbs']:,} HAWBs to {c['consignees']:,} "
              f"of those consignees ({c['written_differently']:,} written differently), MAWB "
              f"{c['mawb']} {c['flight_no']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
