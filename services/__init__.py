"""The SLRT services, one package each; they share only ``slrt`` (contracts and platform)."""
