"""The seeded Chapter 99 programs and fees as Markdown, for docs/duties.md (a test keeps
it current)."""

from __future__ import annotations

from app.tariff import seeds

PROGRAMS_START, PROGRAMS_END = "<!-- programs:start -->", "<!-- programs:end -->"


def _cell(items: list[str] | str) -> str:
    text = ", ".join(items) if isinstance(items, list) else items
    return text.replace("|", "/") or "-"


def program_table() -> str:
    rows = ["| heading | program | rate | origins | scope | in force | state | source |",
            "|---|---|---|---|---|---|---|---|"]
    for p in seeds.program_rows():
        origins = _cell(p["origins"]) if p["origins"] else "all"
        if p["excluded_origins"]:
            origins += f" except {_cell(p['excluded_origins'])}"
        scope = ("operator list" if p["uses_list"]
                 else _cell(p["hts_prefixes"]) if p["hts_prefixes"] else "every line")
        if p["excluded_prefixes"]:
            scope += f"; not {_cell(p['excluded_prefixes'])}"
        if p["exempt_spi"]:
            scope += f"; not with SPI {_cell(p['exempt_spi'])}"
        if p["not_with"]:
            scope += f"; displaced by {_cell(p['not_with'])}"
        until = f" to {p['effective_to']}" if p["effective_to"] else ""
        state = ("on" if p["enabled"] else "off") + ("" if p["verified"] else ", unverified")
        rows.append(f"| {p['heading']} | {p['program']} | {p['ad_valorem_pct']}% | {origins} "
                    f"| {scope} | {p['effective_from']}{until} | {state} "
                    f"| {_cell(p['source'])} |")
    return "\n".join(rows)


def fee_table() -> str:
    rows = ["| fee | class | from | amount | source |", "|---|---|---|---|---|"]
    for f in seeds.fee_rows():
        if f["kind"] == "mpf_informal":
            amount = f"${f['amount_cents'] // 100}.{f['amount_cents'] % 100:02d}"
        else:
            amount = (f"{f['rate_pct']}% (min ${f['min_cents'] // 100}."
                      f"{f['min_cents'] % 100:02d}, max ${f['max_cents'] // 100}."
                      f"{f['max_cents'] % 100:02d})")
        rows.append(f"| {f['kind']} | {f['fee_class']} | {f['effective_from']} | {amount} "
                    f"| {_cell(f['source'])} |")
    return "\n".join(rows)


def generated() -> str:
    return f"{PROGRAMS_START}\n{program_table()}\n\n{fee_table()}\n{PROGRAMS_END}"
