"""HTML pages, one blueprint per audience."""
from flask import Flask


def register_web_blueprints(app: Flask) -> None:
    from certify.web.admin import admin
    from certify.web.auth import auth
    from certify.web.home import home
    from certify.web.public import public

    for blueprint in (admin, auth, home, public):
        app.register_blueprint(blueprint)
