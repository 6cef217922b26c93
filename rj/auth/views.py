"""Signing in and out, one's own account, and account management for managers and admins."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from rj.auth import services
from rj.auth.forms import ChangePasswordForm, ConfirmForm, LoginForm, NewUserForm, SetPasswordForm
from rj.auth.login import safe_next
from rj.auth.models import User
from rj.core.errors import DomainError
from rj.core.forms import show_domain_error
from rj.core.permissions import Perm, Role, public, require, require_login
from rj.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, config=current_app.config)
        except services.LoginFailed as exc:
            db.session.commit()  # keep the failure count
            error = exc.message
        else:
            session.clear()
            session.permanent = True
            services.start_session(user)
            db.session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
    return render_template("auth/login.html", form=form, error=error), (200 if error is None else 400)


@bp.get("/sign-out")
@require_login
def logout_confirm():
    return render_template("auth/logout.html", form=ConfirmForm())


@bp.post("/sign-out")
@require_login
def logout():
    ConfirmForm().validate_on_submit() or abort(400)
    services.end_session(current_user.current_session_token, actor=current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.login"))


@bp.get("/account")
@require_login
def account():
    return render_template("auth/account.html")


@bp.route("/account/password", methods=["GET", "POST"])
@require_login
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            token = services.change_password(user, current=form.current_password.data, new=form.password.data)
        except DomainError as exc:
            show_domain_error(form, exc, "password")
        else:
            db.session.commit()
            login_user(user)  # the new session token replaces the old one
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    row = services.find_account_token(token)
    if row is None:
        return render_template("auth/link_expired.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password_with_token(token, form.password.data)
        except DomainError as exc:
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Your password has been set. Sign in with your email address and new password.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form)


@bp.get("/users")
@require(Perm.USERS_MANAGE)
def user_list():
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render_template("auth/user_list.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
@require(Perm.USERS_MANAGE)
def user_new():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(email=form.email.data, name=form.name.data,
                                        role=Role(form.role.data), actor=current_user)
            token = services.issue_account_token(user, actor=current_user,
                                                 hours=current_app.config["SET_PASSWORD_TOKEN_HOURS"])
            notify_invitation(user, token)
        except DomainError as exc:
            show_domain_error(form, exc, "email")
        else:
            db.session.commit()
            session["_invite_link"] = url_for("auth.set_password", token=token, _external=True)
            return redirect(url_for("auth.user_detail", user_id=user.id))
    return render_template("auth/user_new.html", form=form)


@bp.get("/users/<int:user_id>")
@require(Perm.USERS_MANAGE)
def user_detail(user_id: int):
    user = db.get_or_404(User, user_id)
    invite_link = session.pop("_invite_link", None)
    return render_template("auth/user_detail.html", user=user, invite_link=invite_link, form=ConfirmForm())


@bp.post("/users/<int:user_id>/invitation")
@require(Perm.USERS_MANAGE)
def user_reinvite(user_id: int):
    user = db.get_or_404(User, user_id)
    ConfirmForm().validate_on_submit() or abort(400)
    token = services.issue_account_token(user, actor=current_user, hours=current_app.config["SET_PASSWORD_TOKEN_HOURS"])
    notify_invitation(user, token)
    db.session.commit()
    session["_invite_link"] = url_for("auth.set_password", token=token, _external=True)
    flash("A new set-password link has been created. Earlier links no longer work.", "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
@require(Perm.USERS_MANAGE)
def user_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    ConfirmForm().validate_on_submit() or abort(400)
    make_active = request.form.get("active") == "1"
    try:
        services.set_active(user, make_active, actor=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.user_detail", user_id=user.id))
    db.session.commit()
    flash("Account enabled" if make_active else "Account disabled: they have been signed out", "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))


def notify_invitation(user: User, token: str) -> None:
    """Queue the invitation email when the notifications domain is present."""
    try:
        from rj.notifications.services import queue_account_invitation
    except ImportError:
        return
    queue_account_invitation(user, token)
