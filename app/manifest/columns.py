"""The service's documented manifest columns and the spellings forwarders use for them.

Header cells are matched case- and punctuation-insensitively: "MAWB No", "mawb_no" and
"MAWB-NO." are all ``mawb``. docs/csv-format.md is generated from this table's content.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import Invalid


class Level(enum.StrEnum):
    MANIFEST = "manifest"  # one value for the whole file (may come beside it instead)
    HAWB = "hawb"  # every line of a HAWB must agree
    LINE = "line"  # per commodity line


class Kind(enum.StrEnum):
    TEXT = "text"
    CODE = "code"
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"


@dataclass(frozen=True)
class Column:
    name: str
    level: Level
    kind: Kind
    required: bool
    meaning: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("mawb", Level.MANIFEST, Kind.CODE, True,
           "Master air waybill, 11 digits: airline prefix (3), serial (7), check digit = "
           "serial mod 7. Dashes and spaces are ignored, e.g. 297-75589382.",
           ("MAWB No", "MAWB Number", "Master AWB", "Master Air Waybill", "MAWB")),
    Column("flight_no", Level.MANIFEST, Kind.CODE, True,
           "Arriving flight: airline designator (2-3 characters) and 1-4 digit number, "
           "optional suffix letter, e.g. CI5148.",
           ("Flight No", "Flight", "Flight Number", "Flt No")),
    Column("arrival_date", Level.MANIFEST, Kind.DATE, True,
           "Date the flight arrives at the US port (local date). YYYY-MM-DD preferred; "
           "YYYY/MM/DD, YYYYMMDD and DD-Mon-YYYY accepted.",
           ("Arrival Date", "Flight Date", "ETA", "Date of Arrival", "Arr Date")),
    Column("port_of_arrival", Level.MANIFEST, Kind.CODE, True,
           "US port of arrival: LAX, SFO, JFK or ATL (CBP Schedule D codes 2720, 2801, 4701, "
           "1704 and UN/LOCODEs USLAX, USSFO, USJFK, USATL are accepted).",
           ("Port of Arrival", "Port", "Dest", "Destination", "Arrival Port", "Port of Entry",
            "POD")),
    Column("hawb_no", Level.LINE, Kind.CODE, True,
           "House air waybill number, 1-12 letters or digits. Rows sharing it form one HAWB.",
           ("HAWB No", "HAWB", "HAWB Number", "House AWB", "House Air Waybill", "House Bill")),
    Column("line_no", Level.LINE, Kind.INTEGER, False,
           "Commodity line number within the HAWB (positive integer). When absent, lines are "
           "numbered in file order.",
           ("Line No", "Line", "Item #", "Item No", "Item Number", "Line Number")),
    Column("shipper_name", Level.HAWB, Kind.TEXT, True, "Shipper (seller) name.",
           ("Shipper Name", "Shipper", "Seller Name", "Seller", "Consignor")),
    Column("shipper_address", Level.HAWB, Kind.TEXT, True, "Shipper street address.",
           ("Shipper Address", "Shipper Addr", "Seller Addr", "Seller Address",
            "Consignor Address")),
    Column("shipper_city", Level.HAWB, Kind.TEXT, False, "Shipper city.",
           ("Shipper City", "Seller City", "Consignor City")),
    Column("shipper_country", Level.HAWB, Kind.CODE, True,
           "Shipper country, ISO 3166-1 alpha-2 (alpha-3 is converted).",
           ("Shipper Country", "Shipper Ctry", "Seller Country", "Seller Ctry",
            "Consignor Country")),
    Column("consignee_name", Level.HAWB, Kind.TEXT, True, "Consignee (buyer) name.",
           ("Consignee Name", "Consignee", "Receiver", "Receiver Name", "Buyer Name")),
    Column("consignee_address1", Level.HAWB, Kind.TEXT, True, "Consignee street address.",
           ("Consignee Address 1", "Consignee Address", "Consignee Addr1", "Receiver Addr1",
            "Receiver Address", "Receiver Address 1")),
    Column("consignee_address2", Level.HAWB, Kind.TEXT, False,
           "Consignee address, second line (apartment, suite).",
           ("Consignee Address 2", "Consignee Addr2", "Receiver Addr2", "Receiver Address 2")),
    Column("consignee_city", Level.HAWB, Kind.TEXT, True, "Consignee city.",
           ("Consignee City", "Receiver City")),
    Column("consignee_state", Level.HAWB, Kind.CODE, True,
           "Consignee state: USPS two-letter code (states, DC, territories, AA/AE/AP).",
           ("Consignee State", "Receiver State", "Consignee Province")),
    Column("consignee_zip", Level.HAWB, Kind.CODE, True,
           "Consignee ZIP code: 5 digits or ZIP+4 (12345-6789).",
           ("Consignee Zip", "Consignee Zip Code", "Consignee Postcode", "Consignee Postal Code",
            "Receiver Postcode", "Receiver Zip", "Receiver Postal Code")),
    Column("consignee_country", Level.HAWB, Kind.CODE, False,
           "Consignee country, ISO 3166-1 alpha-2; US when absent.",
           ("Consignee Country", "Consignee Ctry", "Receiver Ctry", "Receiver Country")),
    Column("consignee_phone", Level.HAWB, Kind.TEXT, False, "Consignee telephone.",
           ("Consignee Phone", "Consignee Tel", "Receiver Tel", "Receiver Phone")),
    Column("consignee_email", Level.HAWB, Kind.TEXT, False, "Consignee e-mail address.",
           ("Consignee Email", "Receiver Email")),
    Column("pieces", Level.HAWB, Kind.INTEGER, False, "Number of pieces (packages) in the HAWB.",
           ("Pieces", "PCS", "Packages", "Pkgs", "Number of Pieces")),
    Column("gross_weight_kg", Level.HAWB, Kind.DECIMAL, False, "Gross weight of the HAWB in kg.",
           ("Gross Weight (KG)", "Gross Weight", "Weight KG", "Weight", "GW")),
    Column("description", Level.LINE, Kind.TEXT, True,
           "Plain description of the goods on this line (what a CBP officer would see).",
           ("Description", "Goods Description", "Item Description", "Commodity Description",
            "Product Description")),
    Column("hts_code", Level.LINE, Kind.CODE, True,
           "10-digit HTSUS statistical number; dots and spaces are ignored "
           "(6109.10.00.12 = 6109100012).",
           ("HS Code", "HTS Code", "HTS", "HTSUS", "HTS Number", "Tariff Code")),
    Column("origin_country", Level.LINE, Kind.CODE, True,
           "Country of origin of the goods, ISO 3166-1 alpha-2 (alpha-3 is converted).",
           ("Country of Origin", "COO", "Origin", "Origin Country")),
    Column("quantity", Level.LINE, Kind.DECIMAL, True, "Quantity, greater than zero.",
           ("Quantity", "Qty")),
    Column("unit", Level.LINE, Kind.CODE, False, "Unit of the quantity (PCS, KG, ...).",
           ("Unit", "UOM", "Unit of Measure")),
    Column("value", Level.LINE, Kind.MONEY, True,
           "Fair retail value of the line in USD (quantity included), zero or more, at most "
           "2 decimals, a point as decimal separator.",
           ("Value", "Declared Value", "Fair Retail Value", "Value USD", "Line Value",
            "Item Value")),
    Column("currency", Level.LINE, Kind.CODE, False,
           "ISO 4217 currency of the value; USD when absent. Other currencies are converted "
           "to USD at the rate for the flight date (docs/duties.md).",
           ("Currency", "Currency Code", "Curr")),
    Column("net_weight_kg", Level.LINE, Kind.DECIMAL, False,
           "Net weight of the line's goods in kg, for duties charged per kg (docs/duties.md).",
           ("Net Weight (KG)", "Net Weight", "NW", "Net Wt", "Line Net Weight")),
    Column("spi", Level.LINE, Kind.CODE, False,
           "Special program indicator claimed for the line (e.g. KR, AU, S for USMCA), when "
           "the goods qualify for a special rate the schedule lists.",
           ("SPI", "Special Program", "Special Program Indicator", "Preference")),
    Column("importer_of_record", Level.HAWB, Kind.CODE, False,
           "Importer of record number for the HAWB's informal (Type 11) or formal entry: an "
           "EIN with its 2-character suffix (12-345678900), an SSN (123-45-6789) or a "
           "CBP-assigned number (YYDDPP-NNNNN). When blank, the default of your designated "
           "broker for you, else your own default, is used (docs/entries.md). Needed for "
           "arrivals on which de minimis does not apply.",
           ("Importer of Record", "IOR", "IOR No", "IOR Number", "Importer of Record Number",
            "Importer Number", "Importer No", "Importer ID")),
    Column("manufacturer_name", Level.LINE, Kind.TEXT, False,
           "Name of the manufacturer of the line's goods, for its MID. When the manufacturer "
           "columns and the MID are blank, the MID is built from the shipper.",
           ("Manufacturer Name", "Manufacturer", "Mfr Name", "Maker Name", "Maker")),
    Column("manufacturer_address", Level.LINE, Kind.TEXT, False,
           "Manufacturer's street address line (its largest number goes into the MID).",
           ("Manufacturer Address", "Manufacturer Addr", "Mfr Address", "Maker Address")),
    Column("manufacturer_city", Level.LINE, Kind.TEXT, False, "Manufacturer's city.",
           ("Manufacturer City", "Mfr City", "Maker City")),
    Column("manufacturer_country", Level.LINE, Kind.CODE, False,
           "Manufacturer's country, ISO 3166-1 alpha-2 (alpha-3 is converted); for Canada the "
           "province as CA-ON or its MID code (XO), since a Canadian MID starts with it. "
           "Blank: the country of origin.",
           ("Manufacturer Country", "Mfr Country", "Maker Country", "Manufacturer Ctry")),
    Column("mid", Level.LINE, Kind.CODE, False,
           "Manufacturer identification code (MID) as CBP knows it, up to 15 letters and "
           "digits starting with the country code (e.g. CNSHEELE1234SHE). When blank it is "
           "built by CBP's rules from the manufacturer columns, else from the shipper.",
           ("MID", "MID Code", "Manufacturer ID", "Manufacturer Identification Code",
            "Mfr ID")),
    Column("carrier", Level.HAWB, Kind.CODE, False,
           "Last-mile carrier (UPS, FEDEX, DHL, USPS, ONTRAC, ...).",
           ("Last Mile Carrier", "Delivery Carrier", "Carrier")),
    Column("tracking_no", Level.HAWB, Kind.TEXT, False, "Last-mile carrier tracking number.",
           ("Tracking No", "Tracking Number", "Tracking")),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
MANIFEST_COLUMNS = tuple(c.name for c in COLUMNS if c.level is Level.MANIFEST)
HAWB_COLUMNS = tuple(c.name for c in COLUMNS if c.level is Level.HAWB)


def header_key(cell: str) -> str:
    return re.sub(r"[^0-9a-z#]", "", cell.lower()).replace("#", "no")


_ALIASES: dict[str, str] = {}
for _col in COLUMNS:
    for _spelling in (_col.name, *_col.aliases):
        _ALIASES[header_key(_spelling)] = _col.name


def column_of(cell: str) -> str | None:
    """The documented column a header cell (or a JSON key) names, if any."""
    return _ALIASES.get(header_key(cell))


@dataclass(frozen=True)
class HeaderMap:
    """Which file column feeds which documented column."""

    mapping: dict[str, str]  # file header -> documented column
    ignored: list[str]


def map_header(header: Sequence[str], supplied: Sequence[str] = ()) -> HeaderMap:
    """Map a file's header; ``supplied`` lists manifest columns given beside the file."""
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    taken: dict[str, str] = {}
    for cell in header:
        name = _ALIASES.get(header_key(cell))
        if name is None:
            if cell.strip():
                ignored.append(cell)
            continue
        if name in taken:
            raise Invalid(
                f"Columns {taken[name]!r} and {cell!r} both mean {name!r}; keep one of them."
            )
        taken[name] = cell
        mapping[cell] = name
    missing = [
        c.name for c in COLUMNS
        if c.required and c.name not in taken
        and not (c.level is Level.MANIFEST and c.name in supplied)
    ]
    if missing:
        spelled = "; ".join(f"{m} (e.g. {BY_NAME[m].aliases[0]!r})" for m in missing)
        raise Invalid(
            f"Required column(s) missing from the header: {spelled}. "
            "See docs/csv-format.md for every accepted spelling.",
            missing_columns=missing,
        )
    return HeaderMap(mapping=mapping, ignored=ignored)
