"""Command-line tasks: `flask --app certify create-user | seed-demo | seed-catalogue | bench-seed | audit verify`."""
import sys

import click
from flask import Flask

from certify.errors import ApiError
from certify.models.user import ROLES
from certify.services.bench_seed import DEFAULT_PASSWORD, MIN_BATCHES


def init_commands(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_catalogue_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(bench_seed_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(certificates_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(reset_two_step_command)


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


@click.command("bench-seed")
@click.option("--batches", type=click.IntRange(min=MIN_BATCHES), default=100_000, show_default=True,
              help="How many batches to write, across every status of the workflow.")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True,
              help="The password of every bench account.")
@click.option("--documents-per-batch", type=click.IntRange(3, 20), default=4, show_default=True,
              help="Documents of a complete batch: assay report, feedstock evidence, production record, mass "
                   "balance, then `other`.")
@click.option("--ready-drafts", type=click.IntRange(min=0), default=None,
              help="Complete drafts of the bench applicant that pass every check when submitted "
                   "[default: batches / 100].")
@click.option("--all-files", is_flag=True,
              help="Store every document's file, not only those of batches still open (draft to awaiting review).")
def bench_seed_command(batches: int, password: str, documents_per_batch: int, ready_drafts: int | None,
                       all_files: bool) -> None:
    """Fills the database with benchmark data at national scale, in bulk (minutes for 100,000 batches).

    \b
    Writes: max(36, batches/1,000) recyclers with 1–3 facilities each; feedstock lots, never allocated beyond
    their mass; batches created over three years in every status (older ones mostly approved or rejected,
    the last 45 days also draft, checking, awaiting review, changes requested); their documents, check runs
    with the 14 check results, decisions, certificates signed with the service's key
    (CERTIFY_SIGNING_KEY_FILE: the web app must use the same one) and the hash-chained audit trail.

    \b
    Accounts (password: --password):
      bench-applicant@bench.example  of "Bench Recycling Co.": about a tenth of the batches, and every
                                     --ready-drafts draft (status=draft), each ready to submit
      bench-reviewer@bench.example   (and reviewer-2 … reviewer-6@bench.example, for second approvals)
      bench-auditor@bench.example
      bench-admin@bench.example
    The full batch list of the reviewer, auditor and admin (GET /api/v1/batches) holds every batch:
    batches / 50 pages of 50, so 2,000 pages at 100,000.

    \b
    Certificates: instance/bench-certificates.txt, one line each: number, verification code and status,
    tab-separated, for GET /api/v1/public/certificates/<number>?code=<code> and /verify/<number>?code=<code>.

    \b
    Documents of open batches (draft to awaiting review) are in the document store; the others are rows
    whose SHA-256 names content that is not stored (see --all-files). The batches in `checking` (about
    0.04 %) have queued check runs and no message in the broker: the worker's sweep publishes them.

    Refuses, changing nothing, when bench data are already present: seed a fresh database.
    """
    from certify.services.bench_seed import BenchDataPresent, seed_bench

    try:
        summary = seed_bench(batches, password, documents_per_batch, ready_drafts, all_files, progress=click.echo)
    except (BenchDataPresent, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("rows: " + ", ".join(f"{table} {count:,}" for table, count in summary.counts.items()))
    click.echo("batches by status: " + ", ".join(f"{status} {count:,}" for status, count in summary.statuses.items()))
    click.echo(f"bench applicant's batches: {summary.bench_applicant_batches:,} "
               f"({summary.ready_drafts:,} ready drafts); files stored: {summary.files_stored:,}")
    click.echo(f"certificates: {summary.certificates_file}")
    if summary.sample_certificate:
        number, code = summary.sample_certificate
        click.echo(f"  e.g. GET /api/v1/public/certificates/{number}?code={code}")


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


@click.command("reset-two-step")
@click.argument("email")
def reset_two_step_command(email: str) -> None:
    """Turns a user's two-step sign-in off (a lost phone, the only admin included); they enrol again."""
    from certify.extensions import db
    from certify.models import User
    from certify.services import mfa

    user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with the e-mail {email}")
    mfa.reset(None, user)
    click.echo(f"two-step sign-in reset for <{user.email}>: every session and token of theirs has ended")
