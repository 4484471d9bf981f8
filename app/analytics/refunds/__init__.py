"""Money back: IEEPA duties refunded through CBP's CAPE (the entries, their CAPE files and
the claims recorded), and the Section 122 surcharge paid, contingent on its appeal."""
