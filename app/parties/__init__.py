"""Customs parties: the importer of record's number and the manufacturer's ID (MID).

Pure functions over strings, below every domain that uses them; docs/entries.md says what
each rule is and where it comes from.
"""
