"""Command-line tasks: `flask --app certify create-user | seed-demo | seed-catalogue | audit verify`."""
import sys

import click
from flask import Flask

from certify.errors import ApiError
from certify.models.user import ROLES


def init_commands(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_catalogue_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(certificates_group)
    app.cli.add_command(keys_group)


def read_password(prompt: str) -> str:
    """Prompts on a terminal; reads one line from standard input when it is piped."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def fail(error: ApiError) -> None:
    details = "; ".join(f"{name} {', '.join(str(m) for m in msgs)}" for name, msgs in (error.fields or {}).items())
    raise click.ClickException(f"{error.message}{' ' + details if details else ''}")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--company-id", type=int, default=None, help="Required for applicants.")
def create_user_command(email: str, role: str, company_id: int | None) -> None:
    """Creates a user; the password is prompted, or read from standard input when piped."""
    from certify.services.admin import create_user

    if role == "applicant" and company_id is None:
        raise click.UsageError("an applicant needs --company-id")
    if role != "applicant" and company_id is not None:
        raise click.UsageError("only applicants belong to a company: leave out --company-id")
    try:
        user = create_user(None, email, read_password("Password"), role, company_id)
    except ApiError as error:
        fail(error)
    click.echo(f"created user {user.id} <{user.email}> as {user.role}")


@click.command("seed-catalogue")
def seed_catalogue_command() -> None:
    """Loads the default material catalogue of domain.md where it is missing."""
    from certify.services.catalogue import ensure_catalogue

    added = ensure_catalogue()
    click.echo(f"materials added: {', '.join(added) if added else 'none (catalogue present)'}")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Fills an empty database with demo companies, facilities, lots, labs and one user per role."""
    from certify.services.demo import seed_demo

    logins = seed_demo()
    if not logins:
        click.echo("demo data already present; nothing added")
        return
    click.echo("Demo accounts (e-mail / password):")
    for role, email, password in logins:
        click.echo(f"  {role:<10} {email:<32} {password}")


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify_command() -> None:
    """Recomputes the hash chain; exits 1 at the first event that does not chain."""
    from certify.services.audit import verify_chain

    result = verify_chain()
    if result.ok:
        click.echo(f"audit trail intact: {result.events} events")
        return
    click.echo(f"audit trail broken at seq {result.first_bad_seq} (after {result.events} good events)", err=True)
    sys.exit(1)




@click.group("certificates")
def certificates_group() -> None:
    """Certificates."""


@certificates_group.command("verify")
@click.argument("file", type=click.File("rb"))
def certificates_verify_command(file) -> None:
    """Checks a certificate JSON file offline against the configured keys (current and retired)."""
    import json

    from certify.services.certificates import keyring
    from certify.signing import verify_certificate_document

    try:
        document = json.loads(file.read())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"not a JSON file: {error}") from None
    result = verify_certificate_document(document, keyring().published_keys())
    number = (document.get("certificate") or {}).get("number") if isinstance(document, dict) else None
    if result.valid_signature:
        click.echo(f"valid signature: certificate {number}, key {result.key_id}")
        return
    click.echo(f"INVALID: {result.reason}", err=True)
    sys.exit(1)


@click.group("keys")
def keys_group() -> None:
    """The certificate signing keys."""


@keys_group.command("rotate")
def keys_rotate_command() -> None:
    """Retires the current signing key (still published, so old certificates verify) and makes a new one."""
    from flask import current_app

    from certify.signing import rotate_key

    ring = rotate_key(current_app.config["SIGNING_KEY_FILE"], current_app.config["RETIRED_KEYS_FILE"])
    current_app.extensions.pop("keyring", None)
    click.echo(f"new signing key {ring.current_key_id}; restart the web processes to publish it")
