"""The region of each member state, for the response rate by region.

The continents of the United Nations geoscheme (M49), which the OIC's member states span:
data, not judgement, and the same for every resolution. An entity that is not a member
state (an institution) has no region.
"""

from __future__ import annotations

from typing import Final

AFRICA: Final = [
    "BEN",
    "BFA",
    "CIV",
    "CMR",
    "COM",
    "DJI",
    "DZA",
    "EGY",
    "GAB",
    "GIN",
    "GMB",
    "GNB",
    "LBY",
    "MAR",
    "MLI",
    "MOZ",
    "MRT",
    "NER",
    "NGA",
    "SDN",
    "SEN",
    "SLE",
    "SOM",
    "TCD",
    "TGO",
    "TUN",
    "UGA",
]
AMERICAS: Final = ("GUY", "SUR")
EUROPE: Final = ("ALB",)
ASIA: Final = [
    "AFG",
    "ARE",
    "AZE",
    "BGD",
    "BHR",
    "BRN",
    "IDN",
    "IRN",
    "IRQ",
    "JOR",
    "KAZ",
    "KGZ",
    "KWT",
    "LBN",
    "MDV",
    "MYS",
    "OMN",
    "PAK",
    "PSE",
    "QAT",
    "SAU",
    "SYR",
    "TJK",
    "TKM",
    "TUR",
    "UZB",
    "YEM",
]

#: Region of a member state's code; its catalog message id (domain ``report``).
REGION: Final[dict[str, str]] = {
    **dict.fromkeys(AFRICA, "Africa"),
    **dict.fromkeys(AMERICAS, "Americas"),
    **dict.fromkeys(ASIA, "Asia"),
    **dict.fromkeys(EUROPE, "Europe"),
}
ORDER: Final = ("Africa", "Americas", "Asia", "Europe")


def region_of(code: str) -> str | None:
    return REGION.get(code)
