"""Versioned thresholds (domain.md, Rulesets): the current version of each material and changes that add one."""
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from certify.domain.facts import Ruleset
from certify.errors import ValidationFailed
from certify.extensions import db
from certify.models import Material, MaterialRules
from certify.services import audit

THRESHOLDS = ("min_purity_pct", "max_impurities_ppm", "max_recovery_pct", "typical_max_recovery_pct",
              "min_recovery_pct")


def current_rules(material_code: str) -> MaterialRules | None:
    return db.session.scalar(select(MaterialRules).where(MaterialRules.material_code == material_code)
                             .order_by(MaterialRules.version.desc()).limit(1))


def ruleset_by_rules_id(rules_id: int) -> Ruleset:
    """The ruleset of one version, kept per app once read: a version is never changed (a change adds one), and
    neither is a material's element or fraction, so only a version not seen before costs a query."""
    known = current_app.extensions.setdefault("rulesets_by_rules_id", {})
    ruleset = known.get(rules_id)
    if ruleset is None:
        rules, material = db.session.execute(select(MaterialRules, Material).join(
            Material, Material.code == MaterialRules.material_code).where(MaterialRules.id == rules_id)).one()
        ruleset = known[rules_id] = ruleset_for(material, rules)
    return ruleset


def all_current_rules() -> dict[str, MaterialRules]:
    """The newest version of every material, in one query."""
    newest = (select(MaterialRules.material_code, func.max(MaterialRules.version).label("version"))
              .group_by(MaterialRules.material_code).subquery())
    rows = db.session.scalars(select(MaterialRules).join(
        newest, (MaterialRules.material_code == newest.c.material_code)
        & (MaterialRules.version == newest.c.version))).all()
    return {rules.material_code: rules for rules in rows}


def ruleset_for(material: Material, rules: MaterialRules) -> Ruleset:
    return Ruleset(version=rules.version, material_code=material.code, element=material.element,
                   element_fraction_pct=material.element_fraction_pct, min_purity_pct=rules.min_purity_pct,
                   max_impurities_ppm=dict(rules.max_impurities_ppm), max_recovery_pct=rules.max_recovery_pct,
                   typical_max_recovery_pct=rules.typical_max_recovery_pct, min_recovery_pct=rules.min_recovery_pct)


def change_thresholds(material: Material, changes: dict, actor_id: int | None) -> MaterialRules:
    """Adds a new version carrying the changes; the old version stays as it was, readable for ever."""
    previous = current_rules(material.code)
    values = {name: getattr(previous, name) for name in THRESHOLDS}
    values.update({name: value for name, value in changes.items() if name in THRESHOLDS})
    if not values["min_recovery_pct"] <= values["typical_max_recovery_pct"] <= values["max_recovery_pct"]:
        raise ValidationFailed({"typical_max_recovery_pct": [
            _("must lie between min_recovery_pct and max_recovery_pct")]})
    rules = MaterialRules(material_code=material.code, version=previous.version + 1, created_by=actor_id, **values)
    db.session.add(rules)
    db.session.flush()
    audit.record(actor_id, "ruleset.changed", "material", material.code,
                 {"version": rules.version, "previous_version": previous.version,
                  "changes": {name: changes[name] for name in changes if name in THRESHOLDS}})
    db.session.commit()
    return rules
