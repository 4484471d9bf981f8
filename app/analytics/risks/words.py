"""What a commodity line's description says: too vague to identify the goods, or goods of
another HTS chapter than the line declares. Column-wise with polars, one verdict per
distinct description.

"Does not fit the chapter" is decided against the loaded tariff schedule: a chapter's
vocabulary is every word of its statistical lines' descriptions, headings included. A
description does not fit when none of its words is in its chapter's vocabulary while at
least one is somewhere in the schedule (so brand names and words the schedule never uses
cannot make a line suspect on their own). Words are lower case runs of 3 or more letters,
without the common words below and the vague words of the eligibility red flag, with
plurals folded (batteries: battery, watches: watch, shirts: shirt), the same way on both
sides.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from app.eligibility import rules, tables

VAGUE_DESCRIPTION = "vague_description"
HTS_MISMATCH = "hts_mismatch"

# Words that name no goods: grammar, the schedule's own boilerplate, packing and units.
COMMON_WORDS: frozenset[str] = frozenset(
    {
        "and",
        "for",
        "with",
        "without",
        "other",
        "others",
        "than",
        "not",
        "its",
        "their",
        "thereof",
        "therefor",
        "whether",
        "including",
        "excluding",
        "nesoi",
        "from",
        "into",
        "but",
        "per",
        "each",
        "any",
        "all",
        "made",
        "used",
        "type",
        "new",
        "set",
        "sets",
        "pcs",
        "piece",
        "pieces",
        "pack",
        "packs",
        "unit",
        "units",
        "size",
        "model",
        "style",
        "color",
        "colour",
        "value",
        "weight",
        "kind",
        "kinds",
        "article",
        "articles",
        "part",
        "parts",
        "similar",
        "like",
        "such",
        "use",
        "uses",
        "suitable",
        "chiefly",
        "solely",
        "principally",
        "wholly",
        "mainly",
        "having",
        "containing",
        "described",
        "specified",
        "subheading",
        "heading",
        "chapter",
        "note",
        "notes",
    }
)
_SKIPPED = sorted(COMMON_WORDS | {w for w in tables.VAGUE_WORDS if w.isalpha()})


def is_vague(description: pl.Expr) -> pl.Expr:
    """The eligibility red flag (``rules.standalone_notes``): a description with letters
    that is nothing but vague words (gift, parts, daily necessities...)."""
    text = description.fill_null("").str.to_lowercase()
    # The very pattern the eligibility rule uses, so both always agree.
    rest = text.str.replace_all(rules._VAGUE_PATTERN, " ").str.replace_all(r"[^a-z0-9]", "")
    return text.str.contains(r"[a-z]") & (rest == "")


def _folded(word: pl.Expr) -> pl.Expr:
    """Plural to singular: -ies to -y, -ches/-shes/-xes/-sses/-zes lose -es, a final -s
    goes (but not -ss, -us, -is)."""
    return (
        pl.when(word.str.ends_with("ies") & (word.str.len_chars() > 4))
        .then(word.str.slice(0, word.str.len_chars() - 3) + pl.lit("y"))
        .when(word.str.contains(r"(?:ch|sh|x|ss|z)es$"))
        .then(word.str.slice(0, word.str.len_chars() - 2))
        .when(word.str.contains(r"[^su]s$") & ~word.str.ends_with("is"))
        .then(word.str.slice(0, word.str.len_chars() - 1))
        .otherwise(word)
    )


def words(frame: pl.DataFrame, text: str, keep: Iterable[str]) -> pl.DataFrame:
    """One row per (``keep`` columns, word) of the ``text`` column, without duplicates."""
    keep = list(keep)
    exploded = frame.select(
        *keep,
        pl.col(text).fill_null("").str.to_lowercase().str.extract_all(r"[a-z]{3,}").alias("word"),
    ).explode("word")
    return (
        exploded.filter(pl.col("word").is_not_null() & ~pl.col("word").is_in(_SKIPPED))
        .with_columns(_folded(pl.col("word")).alias("word"))
        .unique()
    )


def vocabulary(schedule: pl.DataFrame) -> pl.DataFrame:
    """(chapter, word) of the loaded schedule; ``schedule`` has code and
    full_description."""
    chapters = schedule.select(pl.col("code").str.slice(0, 2).alias("chapter"), "full_description")
    return words(chapters, "full_description", ["chapter"])


def misfits(lines: pl.DataFrame, vocab: pl.DataFrame) -> pl.Series:
    """For each row of ``lines`` (hts_code, description): whether the description does
    not fit the HTS number's chapter. False without an HTS number, and for every row when
    no schedule is loaded."""
    if vocab.is_empty():
        return pl.Series(HTS_MISMATCH, [False] * lines.height, dtype=pl.Boolean)
    pairs = (
        lines.select(pl.col("hts_code").str.slice(0, 2).alias("chapter"), "description")
        .unique()
        .filter(pl.col("chapter").str.contains(r"^\d\d$"))
        .with_row_index("pair")
    )
    said = words(pairs, "description", ["pair", "chapter"])
    known = said.join(vocab.select("word").unique(), on="word", how="semi")
    fitting = said.join(vocab, on=["chapter", "word"], how="semi")
    verdict = pairs.with_columns(
        (
            pl.col("pair").is_in(known.get_column("pair").implode())
            & ~pl.col("pair").is_in(fitting.get_column("pair").implode())
        ).alias(HTS_MISMATCH)
    )
    return (
        lines.select(pl.col("hts_code").str.slice(0, 2).alias("chapter"), "description")
        .join(
            verdict.select("chapter", "description", HTS_MISMATCH),
            on=["chapter", "description"],
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .get_column(HTS_MISMATCH)
        .fill_null(False)
    )
