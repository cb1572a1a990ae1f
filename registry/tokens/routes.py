"""/account/tokens: the signed-in user's personal API tokens. The token is shown once, on the page that
answers its creation (never in a flash message or a redirect, which would put it in the session cookie)."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from registry.db import db
from registry.i18n import _
from registry.services import api_tokens as svc
from registry.services.errors import NotFound, ValidationFailed
from registry.tokens.forms import RevokeForm, TokenForm
from registry.web import apply_errors, login_required

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    allowed = svc.scopes_for_role(current_user.role)
    form.scopes.choices = [(scope, f"{scope}: {svc.SCOPES[scope][1]}") for scope in allowed]
    return render_template("tokens/index.html", form=form, tokens=svc.all_tokens(current_user),
                           revoke_form=RevokeForm(), new_token=new_token, now=svc.utcnow()), status


@bp.route("/")
@login_required
def index():
    return _page(TokenForm(formdata=None, data={"scopes": ["read"]}))


@bp.route("/", methods=["POST"])
@login_required
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        token, _row = svc.create_token(current_user, name=form.name.data, scopes=form.scopes.data,
                                       days=form.days.data, password=form.password.data)
    except ValidationFailed as exc:
        db.session.commit()  # keeps the audit entry and the failure count of a wrong password
        apply_errors(form, exc)
        return _page(form)
    db.session.commit()
    return _page(TokenForm(formdata=None, data={"scopes": ["read"]}), new_token=token)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        row = svc.revoke_token(current_user, token_id)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("The token %(name)s was revoked: it no longer works.", name=row.name), "success")
    return redirect(url_for("tokens.index"))
