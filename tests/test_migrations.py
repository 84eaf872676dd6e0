"""The one migration chain upgrades empty SQLite and PostgreSQL databases, and matches the models exactly."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from certify import create_app
from certify.extensions import db
from config import TestConfig
from tests.services import admin_url_for, create_database, drop_database

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    import os

    base = os.environ.get("CERTIFY_TEST_DATABASE_URL", POSTGRES)
    name = f"certify_migrations_{uuid.uuid4().hex[:8]}"
    create_database(base, name)
    yield admin_url_for(base, name)
    drop_database(base, name)


def test_migrations_upgrade_an_empty_database_and_match_the_models(empty_database_url, tmp_path):
    from config import database_url

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url(empty_database_url),
                     INSTANCE_DIR=str(tmp_path), SIGNING_KEY_FILE=str(tmp_path / "key.pem"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations have drifted apart: {differences}"
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
