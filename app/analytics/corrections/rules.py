"""The regulatory rules the corrections views apply, each with its source.

SPI programs by origin (HTSUS general note 3(c)(i)): the symbols of the special tariff
treatment programs are listed in general note 3(c)(i) (A, AU, B, BH, C, CA/MX, CL, CO, D,
E, IL, J, JO, K, KR, L, MA, OM, P, PA, PE, R, S, SG: the HTSUS "Rates of Duty" symbol list,
as mirrored at http://clhs.co.kr/world_tariff/duty_us.asp?duty=KR, which also quotes general
note 33(a): goods of Korea entered under a provision whose Special rate is followed by "KR"
are eligible). The general notes' table of contents
(https://usitc.gov/publications/docs/tata/hts/bychapter/1400gntoc) names the single-country
agreements: general note 8 Israel, 18 Jordan, 25 Singapore, 26 Chile, 27 Morocco,
28 Australia. Only the programs of one partner country, whose symbol is that country's
ISO code, are encoded: the origin then says which program to look for. Multi-country
programs (P CAFTA-DR, S USMCA, A GSP, D AGOA, E CBERA, R CBTPA...) need their member or
beneficiary lists, which were not verified here: they are not suggested. Eligibility also
needs the agreement's rules of origin (e.g. general note 33(b)): a suggested claim is a
lead for the broker to confirm with the origin documents, never a finding.

Correction windows:
- Formal entries (Type 01): a post-summary correction (PSC) "must be transmitted to CBP
  within 300 days after the date of entry or up to 15 days prior to the scheduled
  liquidation date, whichever is earlier" (84 FR 40430, 2019-08-14; CSMS #43528998 of
  2020-07-31, as reported at https://www.internationaltradeinsights.com/2020/08/
  customs-announces-extension-of-deadline-to-file-post-summary-correction/). Liquidation
  about 314 days after entry is the usual schedule as the issue states it: NOT verified
  here, so the last day used is the earlier of day 300 and day 314 - 15 = 299
  (``LIQUIDATION_DAYS``, an operator may change it).
- Informal entries (Type 11): a PSC amends an entry summary "excluding informal entry,
  type 11 or 12" (Thomson Reuters ONESOURCE ABI help, "Entry Summary: Post Summary
  Correction", https://www.thomsonreuters.com/en-us/help/onesource-global-trade/abi/
  entry-summ-post-summ-correction). For an informal entry "the amount of duties, fees, and
  taxes computed ... when the entry is prepared by, or filed with, [CBP] will be considered
  the liquidated assessment" (19 CFR 159.6(a), https://www.law.cornell.edu/cfr/text/19/159.6),
  so a refund is claimed by a protest (19 U.S.C. 1514), filed within 180 days of the
  date of liquidation (same internationaltradeinsights.com article). The draft for a Type
  11 refund is therefore a protest, due 180 days after the entry date. For duty owed on a
  Type 11 entry the draft is a request to the port of entry to accept the additional duty:
  how the port collects it (supplemental payment, prior disclosure under 19 CFR 162.74)
  was NOT verified and the draft says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# One-country programs of general note 3(c)(i): origin (ISO 3166 alpha-2) -> SPI symbol.
SPI_BY_ORIGIN: dict[str, str] = {
    "AU": "AU",  # United States-Australia FTA, general note 28
    "BH": "BH",  # United States-Bahrain FTA
    "CL": "CL",  # United States-Chile FTA, general note 26
    "CO": "CO",  # United States-Colombia TPA
    "IL": "IL",  # United States-Israel FTA, general note 8
    "JO": "JO",  # United States-Jordan FTA, general note 18
    "KR": "KR",  # United States-Korea FTA, general note 33
    "MA": "MA",  # United States-Morocco FTA, general note 27
    "OM": "OM",  # United States-Oman FTA
    "PA": "PA",  # United States-Panama TPA
    "PE": "PE",  # United States-Peru TPA
    "SG": "SG",  # United States-Singapore FTA, general note 25
}

PSC_DAYS = 300  # 84 FR 40430: within 300 days after the date of entry
PSC_BEFORE_LIQUIDATION_DAYS = 15  # ... or up to 15 days before scheduled liquidation
LIQUIDATION_DAYS = 314  # unverified: the usual schedule as the issue states it
PROTEST_DAYS = 180  # 19 U.S.C. 1514: within 180 days of liquidation
INFORMAL = "11"

PSC = "post_summary_correction"
PROTEST = "protest"
PORT_REQUEST = "port_request"


@dataclass(frozen=True)
class Window:
    kind: str  # PSC, PROTEST or PORT_REQUEST
    last_day: date
    basis: str


def window(entry_type: str, entry_date: date, difference_cents: int) -> Window:
    """How the entry can still be corrected, and until when."""
    if entry_type == INFORMAL:
        last = entry_date + timedelta(days=PROTEST_DAYS)
        if difference_cents < 0:
            return Window(PROTEST, last, "Informal entries cannot take a PSC; the duty "
                          "computed at filing is the liquidated assessment (19 CFR 159.6(a)): "
                          "a protest under 19 U.S.C. 1514 within 180 days.")
        return Window(PORT_REQUEST, last, "Informal entries cannot take a PSC: ask the port "
                      "of entry how it will collect the additional duty (procedure not "
                      "verified; a prior disclosure under 19 CFR 162.74 may apply).")
    days = min(PSC_DAYS, LIQUIDATION_DAYS - PSC_BEFORE_LIQUIDATION_DAYS)
    return Window(PSC, entry_date + timedelta(days=days),
                  f"PSC within {PSC_DAYS} days of entry or up to {PSC_BEFORE_LIQUIDATION_DAYS} "
                  f"days before scheduled liquidation (taken as {LIQUIDATION_DAYS} days, "
                  "unverified), whichever is earlier (84 FR 40430).")


def earliest_open(as_of: date) -> date:
    """The earliest entry date any window still holds open on ``as_of`` (the longest
    window is the PSC's): a bound for reading rows by index."""
    longest = max(PROTEST_DAYS, min(PSC_DAYS, LIQUIDATION_DAYS - PSC_BEFORE_LIQUIDATION_DAYS))
    return as_of - timedelta(days=longest)
