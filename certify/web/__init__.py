"""HTML pages, one blueprint per audience."""
from flask import Flask


def register_web_blueprints(app: Flask) -> None:
    from certify.web.admin import admin
    from certify.web.apidocs import apidocs
    from certify.web.applicant import applicant
    from certify.web.audit import audit
    from certify.web.auth import auth
    from certify.web.home import home
    from certify.web.public import public
    from certify.web.review import review

    for blueprint in (admin, apidocs, applicant, audit, auth, home, public, review):
        app.register_blueprint(blueprint)
