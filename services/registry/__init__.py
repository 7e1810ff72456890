"""Registry — DT-PPFM social registry, program catalog, pre-list and SIKS-NG exchange."""
