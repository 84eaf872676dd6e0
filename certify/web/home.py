"""Each role's home page: what needs attention now."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from certify.extensions import db
from certify.models import Batch, Certificate, Company, FeedstockLot, User
from certify.models.user import ROLES
from certify.security import roles_required, scoped

home = Blueprint("home", __name__)


@home.get("/")
def index():
    """Sends visitors to sign in and signed-in users to their role's home page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("home.dashboard"))


@home.get("/home")
@roles_required(*ROLES)
def dashboard():
    """The role's home page with the counts that matter to it."""
    batches_by_status = dict(db.session.execute(
        scoped(select(Batch.status, func.count()), Batch, current_user).group_by(Batch.status)).all())
    counts = {"batches": batches_by_status,
              "lots": db.session.scalar(scoped(select(func.count(FeedstockLot.id)), FeedstockLot, current_user)),
              "certificates": db.session.scalar(
                  scoped(select(func.count(Certificate.id)), Certificate, current_user))}
    if current_user.role == "admin":
        counts["companies"] = db.session.scalar(select(func.count(Company.id)))
        counts["users"] = db.session.scalar(select(func.count(User.id)))
    return render_template("home/dashboard.html", counts=counts)
