"""Saved views of /profiles: the "Views" menu's save form and data, and a small page to
rename, change, share, delete them and choose the default one."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..security import current_actor, requires
from ..services.team import views
from .forms import ViewEditForm, ViewForm

bp = Blueprint("views", __name__, url_prefix="/views")


def _person() -> views.Person:
    return views.Person(current_user.id, current_user.role, current_actor())


def _listed(person: views.Person) -> list[dict]:
    default = views.default_id(person.user_id)
    base = url_for("pages.profiles")
    return [views.as_dict(view, default, base) for view in views.visible_views(person)]


@bp.app_template_global("views_menu")
def views_menu() -> dict:
    """What the Views menu on /profiles lists: the person's own views, the team's shared
    ones, and whether the person may share."""
    person = _person()
    listed = _listed(person)
    return {
        "personal": [view for view in listed if view["owner"]["id"] == person.user_id],
        "shared": [view for view in listed if view["owner"]["id"] != person.user_id],
        "may_share": person.may_share,
    }


def _index(form: ViewForm, status: int = 200, editing: int | None = None, edit_form=None):
    person = _person()
    body = render_template(
        "saved_views.html",
        section="profiles",
        views=_listed(person),
        me=person.user_id,
        may_share=person.may_share,
        is_admin=person.is_admin,
        form=form,
        errors=form.first_errors(),
        editing=editing,
        edit_form=edit_form,
        edit_errors=edit_form.first_errors() if edit_form else {},
    )
    return body, status


@bp.get("")
def index():
    """Every view the person sees, with what they may do to each, and a form to save one."""
    return _index(ViewForm(formdata=None))


@bp.post("")
@requires("viewer")  # anyone signed in; the service checks ownership and sharing
def create():
    """Save a view from the form (the Views menu's or this page's), then show it; this page
    with the form and the reason if refused."""
    form = ViewForm()
    try:
        made = views.create_view(
            _person(),
            form.name.data or "",
            form.query.data or "",
            bool(form.shared.data),
            bool(form.default.data),
        )
    except views.InvalidValue as error:
        form.refuse(error.field, f"the {error.field} {error.message}", "name")
        return _index(form, 422)
    except views.NameTaken as error:
        form.name.errors = [str(error)]  # as said: refuse() would lower-case the name
        return _index(form, 422)
    flash(f"Saved the view {made.name}.", "success")
    return redirect(views.url_of(made.query, url_for("pages.profiles")), code=303)


@bp.post("/<int:view_id>/edit")
@requires("viewer")  # anyone signed in; the service checks ownership and sharing
def update(view_id: int):
    """Rename a view, change its query, share it or stop (as the form offers), then show the
    views; this page with the reason if refused."""
    form = ViewEditForm()
    shared = bool(form.shared.data) if form.sharing.data else None
    try:
        views.update_view(view_id, _person(), form.name.data, form.query.data, shared)
    except views.InvalidValue as error:
        form.refuse(error.field, f"the {error.field} {error.message}", "name")
        return _index(ViewForm(formdata=None), 422, view_id, form)
    except views.NameTaken as error:
        form.name.errors = [str(error)]
        return _index(ViewForm(formdata=None), 422, view_id, form)
    flash("Saved.", "success")
    return redirect(url_for("views.index"), code=303)


@bp.post("/<int:view_id>/delete")
@requires("viewer")  # anyone signed in; the service checks ownership and sharing
def delete(view_id: int):
    """Delete a view (defaults that named it are cleared), then show the views."""
    name = views.get_view(view_id, _person()).name
    views.delete_view(view_id, _person())
    flash(f"Deleted the view {name}.", "success")
    return redirect(url_for("views.index"), code=303)


@bp.post("/<int:view_id>/default")
@requires("viewer")  # anyone signed in; the service checks ownership and sharing
def choose_default(view_id: int):
    """Make the view the person's default (default=yes), or stop it being so (default=no)."""
    person = _person()
    view = views.get_view(view_id, person)
    if request.form.get("default") == "no":
        if views.default_id(person.user_id) == view_id:
            views.set_default(person, None)
        flash("/profiles opens with every profile again.", "success")
    else:
        views.set_default(person, view_id)
        flash(f"/profiles opens with {view.name} now.", "success")
    return redirect(url_for("views.index"), code=303)
