"""The pages' forms (Flask-WTF): what each form takes and what a person reads when a value is
refused. CSRF is checked app-wide for every form post (security/gate.py), so these forms leave it
to that check."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..services.ingestion.platforms import LABELS, PLATFORMS
from ..services.ingestion.validation import MAX_USER_ID, BadUserId, check_user_id

# "TikTok, Instagram or X"
CHOICE_OF_PLATFORMS = (
    ", ".join(LABELS[name] for name in PLATFORMS[:-1]) + f" or {LABELS[PLATFORMS[-1]]}"
)


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class ConnectForm(FlaskForm):
    """The connect flow's platform and optional user id (every step posts them again)."""

    class Meta:
        csrf = False

    platform = RadioField(
        "Platform",
        choices=[SelectChoice(name, LABELS[name]) for name in PLATFORMS],
        validate_choice=False,
    )
    user_id = StringField("User id or handle", filters=[_stripped])

    def validate_platform(self, field) -> None:
        if field.data not in PLATFORMS:
            raise ValidationError(f"Choose {CHOICE_OF_PLATFORMS}.")

    def validate_user_id(self, field) -> None:
        if not field.data:
            return  # left empty: a new demo account
        try:
            field.data = check_user_id(field.data)
        except BadUserId as error:
            if error.reason == "nul":
                raise ValidationError("A user id cannot hold a NUL character.") from None
            raise ValidationError(
                f"A user id has at most {MAX_USER_ID} characters ({error.length} given)."
            ) from None


class _Form(FlaskForm):
    """A page form whose rules live in a service: the view records what the service refused
    on the field it names (`refuse`)."""

    class Meta:
        csrf = False

    def refuse(self, field: str | None, message: str, default: str) -> None:
        """Show `message` ("what is wrong", capitalised and ended here) at `field`."""
        self[field or default].errors = [message.capitalize() + "."]

    def first_errors(self) -> dict[str, str]:
        """Field -> its first error, as the templates show one line per field."""
        return {name: errors[0] for name, errors in self.errors.items()}


class BulkConnectForm(_Form):
    """Many accounts to connect as a job: pasted lines of platform,user_id, or a CSV file of
    them (the jobs service reads and checks both)."""

    lines = TextAreaField("Accounts, one a line: platform,user_id")
    upload = FileField("Or a CSV file")


class SignInForm(_Form):
    name = StringField("Name", filters=[_stripped])
    password = PasswordField("Password")


class PasswordForm(_Form):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
    confirm_password = PasswordField("New password again")


class NewUserForm(_Form):
    name = StringField("Name", filters=[_stripped])
    role = StringField("Role", default="viewer")
    password = PasswordField("First password")


class RoleForm(_Form):
    role = StringField("Role")


class NewTokenForm(_Form):
    user = StringField("User")
    name = StringField("Name")


class ListForm(_Form):
    """A new list: its name and what it is for (the lists service checks both)."""

    name = StringField("Name", filters=[_stripped])
    description = TextAreaField("Description", filters=[_stripped])


class MemberForm(_Form):
    """A member's note, tags (one line, separated by commas) and status, edited in its row."""

    note = StringField("Note")
    tags = StringField("Tags")
    status = StringField("Status")


class ViewForm(_Form):
    """A saved view of /profiles: its name, the page's query string (filled by the page's
    script from the address bar), and whether it is shared and the person's default (the
    views service checks them)."""

    name = StringField("Name", filters=[_stripped])
    query = StringField("Query")
    shared = BooleanField("Share with the team")
    default = BooleanField("Make it my default")


class ViewEditForm(_Form):
    """A saved view's new name and query, and whether it is shared (read only when the form
    offers the choice: `sharing` says it does)."""

    name = StringField("Name", filters=[_stripped])
    query = StringField("Query")
    shared = BooleanField("Shared with the team")
    sharing = StringField()
