"""Signing in and out of the HTML UI, with a TOTP code as the second step for users who have set one up."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from certify.auth import load_session_user
from certify.extensions import limiter
from certify.models.user import ROLES, User
from certify.security import roles_required
from certify.services import accounts, mfa
from certify.timeutil import utcnow
from certify.web import formatting
from certify.web.auth_forms import CodeForm, EnrolForm
from certify.web.forms import LanguageForm, LoginForm, LogoutForm

auth = Blueprint("auth", __name__)

# The session key of a sign-in whose password was right and whose code is still to come: not a login.
PENDING = "two_step_pending"
# What a signed-in user who must still enrol can reach: enrolment itself, signing out, the language switch.
OPEN_BEFORE_ENROLMENT = {"auth.two_step", "auth.logout", "auth.choose_language"}


@auth.record_once
def refuse_unknown_roles(state) -> None:
    # A misspelt role would silently leave that role without two-step sign-in.
    unknown = set(state.app.config["MFA_REQUIRED_ROLES"]) - set(ROLES)
    if unknown:
        raise RuntimeError(f"CERTIFY_MFA_REQUIRED_ROLES names unknown roles: {', '.join(sorted(unknown))}; "
                           f"the roles are {', '.join(ROLES)}")


@auth.before_app_request
def send_to_enrolment_first():
    """A user whose role requires two-step sign-in reaches no signed-in page before enrolling.

    Public pages stay as they are (anyone may see them signed out), and so does the API: a token needs the code
    once a user has enrolled, and the enrolment itself happens here.
    """
    if request.blueprint == "api" or request.endpoint in OPEN_BEFORE_ENROLMENT:
        return None
    if not getattr(current_app.view_functions.get(request.endpoint), "allowed_roles", None):
        return None
    if current_user.is_authenticated and mfa.must_enrol(current_user):
        return redirect(url_for("auth.two_step"))
    return None


def safe_next(target: str | None) -> str:
    """Only a path on this site may follow the login: never another host, scheme or protocol-relative URL."""
    if not target:
        return url_for("home.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("home.dashboard")
    return target


def pending_sign_in() -> dict | None:
    """The half-finished sign-in this browser holds, if it is still fresh."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if utcnow().timestamp() > pending.get("until", 0):
        session.pop(PENDING)
        flash(_("The sign-in took too long: enter your password again."), "info")
        return None
    return pending


def login_form_account_key() -> str:
    # The code step names no e-mail: it counts against the account whose password was given.
    email = request.form.get("email") or (session.get(PENDING) or {}).get("email", "")
    return f"account:{email.strip().lower()}"


def pending_account_key() -> str:
    """The account whose codes are counted, in the same bucket as the API's (services/mfa.py, CODE_LIMIT_SCOPE)."""
    return f"account:{(session.get(PENDING) or {}).get('email', '')}"


def begin_session(user: User) -> None:
    session.clear()  # a fresh session at sign-in: nothing from before it carries over (fixation)
    login_user(user)
    session.permanent = True
    session["auth_at"] = utcnow().timestamp()


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=login_form_account_key)
@limiter.shared_limit(mfa.CODE_ATTEMPT_LIMIT, scope=mfa.CODE_LIMIT_SCOPE, methods=["POST"],
                      key_func=pending_account_key, exempt_when=lambda: PENDING not in session,
                      deduct_when=mfa.code_refused)
def login():
    """The sign-in form: the password, then the code for users who have two-step sign-in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = pending_sign_in()
    if pending is not None:
        return code_step(pending)
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data, channel="web")
        if user is not None and user.has_totp:
            session.clear()  # as at sign-in: the pending step starts from nothing
            session[PENDING] = {"user": user.get_id(), "email": user.email, "next": request.args.get("next"),
                                "until": utcnow().timestamp() + mfa.PENDING_SECONDS}
            return redirect(url_for("auth.login"))
        if user is not None:
            begin_session(user)
            return redirect(safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form)


def code_step(pending: dict):
    """The second step: the browser holds only the pending marker, which opens no page, until the code is right."""
    form = CodeForm()
    if request.method == "POST" and form.start_over.data:
        session.pop(PENDING, None)
        return redirect(url_for("auth.login"))
    if form.validate_on_submit():
        # The marker names the session version: a password change, logout everywhere or reset since ends it.
        user = load_session_user(pending["user"])
        if user is None or not user.has_totp:
            session.pop(PENDING, None)
            return redirect(url_for("auth.login"))
        if mfa.verify_sign_in(user, form.code.data, channel="web"):
            begin_session(user)
            return redirect(safe_next(pending.get("next")))
        form.code.errors.append(_("This code is not right or was used already: enter the code the app shows now."))
    return render_template("auth/code.html", form=form)


@auth.route("/account/two-step", methods=["GET", "POST"])
@roles_required(*ROLES)
def two_step():
    """Two-step sign-in for the signed-in user: its state, or setting it up with an authenticator app."""
    user = current_user._get_current_object()
    if user.has_totp:
        return render_template("auth/two_step.html", user=user, required=mfa.required_for(user), date=formatting.date)
    form = EnrolForm()
    if form.validate_on_submit():
        if mfa.confirm_enrolment(user, form.code.data):
            # Enrolling ended every other session of this user (they began with the password alone); this one
            # starts again at once, keeping the time it was first signed in for the absolute lifetime.
            signed_in_at = session.get("auth_at")
            begin_session(user)
            session["auth_at"] = signed_in_at or session["auth_at"]
            flash(_("Two-step sign-in is on: from now on you enter a code from the app after your password."),
                  "info")
            return redirect(url_for("home.dashboard"))
        form.code.errors.append(_("This code is not right: scan the QR code again or check the key, then enter "
                                  "the code the app shows now."))
    enrolment = mfa.begin_enrolment(user)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/two_step.html", user=user, form=form, enrolment=enrolment,
                           required=mfa.required_for(user)), status


@auth.post("/logout")
@roles_required(*ROLES)
def logout():
    """Signs out here and everywhere: every copy of the session cookie stops working."""
    form = LogoutForm()
    if form.validate_on_submit():
        accounts.end_all_sessions(current_user)
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@auth.post("/language")
def choose_language():
    """Switches the language of every page: remembered for the browser, and for the account when signed in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.locale.data)
    # Back to the page the switch was pressed on (Referrer-Policy same-origin sends only our own pages).
    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc == request.host
    return redirect(safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else "") if same_site else None))
