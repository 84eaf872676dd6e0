"""Loading the default material catalogue into an empty database."""
from decimal import Decimal

from certify.domain.catalogue import DEFAULT_MATERIALS, MAX_RECOVERY_PCT, MIN_RECOVERY_PCT
from certify.extensions import db
from certify.models import Material, MaterialRules


def ensure_catalogue() -> list[str]:
    """Adds each default material that is missing, at ruleset version 1; returns the codes added."""
    added = []
    for code, (name, element, fraction, min_purity, impurities, typical_max) in DEFAULT_MATERIALS.items():
        if db.session.get(Material, code) is not None:
            continue
        db.session.add(Material(code=code, name=name, element=element, element_fraction_pct=fraction))
        db.session.add(MaterialRules(
            material_code=code, version=1, min_purity_pct=min_purity,
            max_impurities_ppm={k: Decimal(v) for k, v in impurities.items()}, max_recovery_pct=MAX_RECOVERY_PCT,
            typical_max_recovery_pct=typical_max, min_recovery_pct=MIN_RECOVERY_PCT))
        added.append(code)
    db.session.commit()
    return added
