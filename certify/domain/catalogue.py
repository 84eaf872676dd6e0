"""The default material catalogue of domain.md: battery-grade limits until Korea publishes its own."""
from decimal import Decimal as D

MAX_RECOVERY_PCT = D("102")
MIN_RECOVERY_PCT = D("50")

# code: (product name, element, element_fraction_pct, min_purity_pct, max_impurities_ppm, typical_max_recovery_pct)
DEFAULT_MATERIALS = {
    "LI2CO3": ("Lithium carbonate Li2CO3", "Li", D("18.785"), D("99.5"),
               {"Na": 250, "Mg": 80, "Ca": 50, "K": 10, "Fe": 10, "Cu": 3, "Zn": 3, "Ni": 10, "Si": 30}, D("95")),
    "LIOH": ("Lithium hydroxide monohydrate LiOH·H2O", "Li", D("16.539"), D("99.0"),
             {"Na": 50, "K": 50, "Ca": 50, "Fe": 10, "Cu": 5, "Cl": 20, "SO4": 100}, D("95")),
    "NISO4": ("Nickel sulfate hexahydrate NiSO4·6H2O", "Ni", D("22.330"), D("98.5"),
              {"Co": 50, "Fe": 10, "Cu": 10, "Zn": 10, "Ca": 30, "Mg": 50, "Na": 50, "Pb": 5}, D("99")),
    "COSO4": ("Cobalt sulfate heptahydrate CoSO4·7H2O", "Co", D("20.966"), D("97.8"),
              {"Ni": 10, "Fe": 10, "Cu": 10, "Mn": 10, "Zn": 10, "Ca": 10, "Mg": 10, "Na": 10}, D("99")),
    "MNSO4": ("Manganese sulfate monohydrate MnSO4·H2O", "Mn", D("32.506"), D("98.4"),
              {"Fe": 10, "Zn": 10, "Cu": 10, "Pb": 10, "Cd": 5, "K": 100, "Na": 100, "Ca": 100, "Mg": 100,
               "Ni": 50, "Co": 50}, D("99")),
    "PB": ("Refined lead", "Pb", D("100.000"), D("99.97"),
           {"Bi": 150, "Cu": 10, "Ag": 15, "Zn": 5, "Fe": 10, "Sn": 5}, D("99")),
}

# EU Battery Regulation (EU) 2023/1542, Article 8: minimum recycled shares by element, in %.
EU_MINIMUM_RECYCLED_PCT = {
    2031: {"Co": D("16"), "Li": D("6"), "Ni": D("6"), "Pb": D("85")},
    2036: {"Co": D("26"), "Li": D("12"), "Ni": D("15"), "Pb": D("85")},
}
