"""Signing in and out of the HTML UI."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from certify.extensions import limiter
from certify.models.user import ROLES
from certify.security import roles_required
from certify.services import accounts
from certify.timeutil import utcnow
from certify.web.forms import LanguageForm, LoginForm, LogoutForm

auth = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only a path on this site may follow the login: never another host, scheme or protocol-relative URL."""
    if not target:
        return url_for("home.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("home.dashboard")
    return target


def login_form_account_key() -> str:
    return f"account:{request.form.get('email', '').strip().lower()}"


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=login_form_account_key)
def login():
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data, channel="web")
        if user is not None:
            session.clear()  # a fresh session at sign-in: nothing from before it carries over (fixation)
            login_user(user)
            session.permanent = True
            session["auth_at"] = utcnow().timestamp()
            return redirect(safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form)


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
