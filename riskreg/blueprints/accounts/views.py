"""Login, logout, the language switch, the start page, the user's own API tokens, and account
administration."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_, select
from werkzeug.exceptions import default_exceptions

from riskreg import labels, permissions
from riskreg.blueprints.accounts import bp
from riskreg.blueprints.accounts.forms import (
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    RevokeForm,
    TokenForm,
    UserEditForm,
    UserForm,
)
from riskreg.blueprints.accounts.pageutil import field_errors, query_args
from riskreg.errors import DomainError
from riskreg.extensions import db
from riskreg.models import ApiToken, OrgUnit, User, UserRole
from riskreg.services import accounts as service
from riskreg.services import dashboard
from riskreg.web import add_nav, arg_int, current_actor

# The menu's first entries; feature blueprints append theirs after these.
add_nav("accounts.start", _l("Start"))
add_nav("systems.index", _l("Systems"))
add_nav("accounts.users", _l("Accounts"), "is_admin")

USERS_PER_PAGE = 50


def safe_next(target: str | None) -> str:
    """A local path to go back to, never another site."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("accounts.start")


def is_default_http_message(status: int, message) -> bool:
    """True for werkzeug's own (English) description of an HTTP error, which the page does not repeat."""
    exc = default_exceptions.get(status)
    return exc is not None and str(message) == exc.description


def label_of(mapping: dict, code, default=None) -> str:
    """The label of a code, translated once per request (lists show the same few labels many times)."""
    if not has_request_context():
        return str(mapping.get(code, code if default is None else default))
    cache = g.setdefault("label_cache", {})
    key = (id(mapping), code)
    if key not in cache:
        cache[key] = str(mapping.get(code, code if default is None else default))
    return cache[key]


@bp.record_once
def template_globals(state) -> None:
    """Helpers for every template, also macros imported without context (labels of codes, links to
    pages that may not exist yet)."""
    state.app.jinja_env.globals.update(
        {
            "stage_label": lambda code: label_of(labels.STAGE_LABELS, code),
            "lifecycle_label": lambda code: label_of(labels.LIFECYCLE_LABELS, code),
            "hosting_label": lambda code: label_of(labels.HOSTING_LABELS, code, code or ""),
            "role_label": lambda code: label_of(labels.ROLE_LABELS, code),
            "criticality_label": lambda code: label_of(labels.CRITICALITY_LABELS, code, code or ""),
            "personal_data_label": lambda code: label_of(labels.PERSONAL_DATA_LABELS, code, code or ""),
            "import_status_label": lambda code: label_of(labels.IMPORT_STATUS_LABELS, code),
            "field_label": labels.field_label,
            "is_default_http_message": is_default_http_message,
        }
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.start"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = service.authenticate(db.session, current_actor(), form.email.data, form.password.data)
        except service.LoginThrottled:
            db.session.commit()
            form.password.errors.append(_("Too many failed logins. Wait a while and try again."))
            return render_template("login.html", form=form), 429
        db.session.commit()
        if user is None:
            form.password.errors.append(_("Wrong e-mail address or password."))
            return render_template("login.html", form=form), 200
        login_user(user)
        session.permanent = True  # PERMANENT_SESSION_LIFETIME ends it
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    language = session.get("locale")
    logout_user()
    if language:
        session["locale"] = language
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface between Swedish and English; the choice lives in the session."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    if form.language.data not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = form.language.data
    return redirect(safe_next(form.next.data))


@bp.route("/")
@login_required
def start():
    panels = dashboard.start_page(db.session, current_actor())
    return render_template("start.html", panels=panels)


# ------------------------------------------------------------------ API tokens


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _token, new_token = service.create_token(
                db.session, current_actor(), current_user, form.name.data
            )
        except DomainError as exc:
            db.session.rollback()
            field_errors(form, exc)
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    rows = (
        db.session.execute(
            select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "tokens.html",
        form=form,
        rows=rows,
        new_token=new_token,
        revoke_form=RevokeForm(),
        now=current_actor().at(),
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    service.revoke_token(db.session, current_actor(), token_id)
    db.session.commit()
    flash(_("The token is revoked."), "info")
    return redirect(url_for("accounts.tokens"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            service.change_own_password(
                db.session, current_actor(), form.current_password.data, form.new_password.data
            )
        except service.LoginThrottled:
            db.session.commit()  # the refusal is recorded
            form.current_password.errors.append(_("Too many failed attempts. Wait a while and try again."))
            status = 429
        except service.WrongPassword:
            db.session.commit()  # counts as a failed login
            form.current_password.errors.append(_("That is not your current password."))
            status = 422
        except DomainError as exc:
            db.session.rollback()
            field_errors(form, exc)
            status = 422
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session goes on; the others have ended
            flash(_("Your password is changed. You are logged out everywhere else."), "success")
            return redirect(url_for("accounts.change_password"))
    elif form.errors:
        status = 422
    return render_template("password.html", form=form), status


# Where a user whose password an administrator set may go before choosing their own.
OWN_PASSWORD_PAGES = {"accounts.change_password", "accounts.logout", "accounts.login", "accounts.set_language",
                      "static", "health.healthz"}


@bp.before_app_request
def own_password_first():
    """After an administrator set the password, the browser session leads to the password page until the
    user has chosen their own (API tokens are credentials of their own and are not held up)."""
    if request.path.startswith("/api/") or request.endpoint in OWN_PASSWORD_PAGES:
        return None
    if current_user.is_authenticated and current_user.password_must_change:
        return redirect(url_for("accounts.change_password"))
    return None


# ------------------------------------------------------------------ account administration


def unit_choices():
    units = db.session.execute(select(OrgUnit.id, OrgUnit.name).order_by(OrgUnit.name)).all()
    return [("", _("— none —"))] + [(str(i), n) for i, n in units]


def require_admin() -> None:
    if not permissions.is_admin(current_user):
        abort(403)


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def users():
    require_admin()
    form = UserForm()
    form.org_unit_id.choices = unit_choices()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                db.session,
                current_actor(),
                email=form.email.data,
                name=form.name.data,
                roles=form.roles.data,
                password=form.password.data,
                org_unit_id=form.org_unit_id.data,
                must_change_password=True,
            )
        except DomainError as exc:
            db.session.rollback()
            field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The account for %(name)s is created.", name=user.name), "success")
            return redirect(url_for("accounts.users"))
    q = request.args.get("q", "").strip()[:200]
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    stmt = select(User)
    if q:
        like = "%" + q.replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(User.name.ilike(like, escape="\\"), User.email.ilike(like, escape="\\")))
    if role in labels.ROLE_LABELS:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if status in ("active", "inactive"):
        stmt = stmt.where(User.active.is_(status == "active"))
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    pages = max((total + USERS_PER_PAGE - 1) // USERS_PER_PAGE, 1)
    page = min(max(arg_int("page", 1), 1), pages)
    rows = db.session.execute(
        stmt.outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
        .add_columns(OrgUnit.name)
        .order_by(User.name, User.id)
        .limit(USERS_PER_PAGE)
        .offset((page - 1) * USERS_PER_PAGE)
    ).all()
    status_code = 422 if form.errors else 200
    return render_template(
        "users.html",
        form=form,
        rows=rows,
        q=q,
        role=role,
        status=status,
        total=total,
        page=page,
        pages=pages,
        args=query_args,
        role_choices=list(labels.ROLE_LABELS.items()),
    ), status_code


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    require_admin()
    user = service.get_user(db.session, user_id)
    form = _edit_form(user, submitted=request.method == "POST")
    if form.validate_on_submit():
        try:
            service.update_user(
                db.session,
                current_actor(),
                user.id,
                name=form.name.data,
                roles=form.roles.data,
                org_unit_id=form.org_unit_id.data,
                set_org_unit=True,
                active=form.active.data,
            )
        except DomainError as exc:
            db.session.rollback()
            user = service.get_user(db.session, user_id)
            field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The account is updated."), "success")
            return redirect(url_for("accounts.users"))
    return _user_page(user, form, PasswordResetForm())


def _edit_form(user: User, *, submitted: bool) -> UserEditForm:
    """The account form: what was submitted, or the account as it is."""
    form = UserEditForm(obj=user) if submitted else UserEditForm(formdata=None, obj=user)
    form.org_unit_id.choices = unit_choices()
    if not submitted:
        form.roles.data = sorted(r.value for r in user.roles)
        form.org_unit_id.data = user.org_unit_id
    return form


def _user_page(user: User, form: UserEditForm, reset_form: PasswordResetForm):
    token_count = db.session.execute(
        select(func.count(ApiToken.id)).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalar_one()
    page = render_template(
        "user_edit.html", form=form, user=user, token_count=token_count, reset_form=reset_form
    )
    return page, (422 if form.errors or reset_form.errors else 200)


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@login_required
def reset_password(user_id: int):
    require_admin()
    user = service.get_user(db.session, user_id)
    reset_form = PasswordResetForm()
    if reset_form.validate_on_submit():
        try:
            service.reset_password(db.session, current_actor(), user.id, reset_form.password.data)
        except DomainError as exc:
            db.session.rollback()
            user = service.get_user(db.session, user_id)
            field_errors(reset_form, exc)
        else:
            db.session.commit()
            flash(_("%(name)s has a new password; their sessions have ended.", name=user.name), "success")
            return redirect(url_for("accounts.edit_user", user_id=user.id))
    return _user_page(user, _edit_form(user, submitted=False), reset_form)
