"""Bulk connect: many accounts, each connected through the onboarding pipeline as the connect
page connects one, from a list of {platform, user_id} or from lines of text (pasted, or a CSV
file) read by `read_lines`.

The whole list is checked before the job starts: a bad account, a repeated one or a bad line
is named where it is (accounts[3].user_id, line 7), every one at once, and nothing is queued.
"""

import csv
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..ingestion import onboarding
from ..ingestion.platforms import LABELS, PLATFORMS
from ..ingestion.validation import MAX_USER_ID, BadUserId, check_user_id
from .base import Done, InvalidParams, Item, Kind

MAX_ACCOUNTS = 10_000
# Pasted lines or a file's text: room for MAX_ACCOUNTS lines of the longest user ids.
MAX_LINES_CHARS = MAX_ACCOUNTS * (MAX_USER_ID + 16)
# A start refused for repeated accounts names this many of them at most.
REPEATS_NAMED = 20
# Header cells a file may start with (compared lower-cased, spaces and dashes as underscores).
HEADER = ("platform", "user_id")
USER_ID_HEADERS = ("user_id", "userid", "user", "id")


def _user_id_problem(error: BadUserId) -> str:
    if error.reason == "empty":
        return "user id missing"
    if error.reason == "nul":
        return "user id holds a NUL character"
    return f"user id has {error.length} characters; at most {MAX_USER_ID}"


def _platform_problem(text: str) -> str:
    return f"unknown platform {text!r}; choose one of {', '.join(PLATFORMS)}"


class AccountToConnect(BaseModel):
    """One account to connect."""

    platform: Literal[PLATFORMS] = Field(description="One of " + ", ".join(PLATFORMS) + ".")
    user_id: Annotated[
        str,
        WithJsonSchema({"type": "string", "pattern": r"\S", "maxLength": MAX_USER_ID}),
    ] = Field(description="The account's id on its platform; surrounding spaces are ignored.")

    @field_validator("platform", mode="before")
    @classmethod
    def _platform(cls, value: Any) -> str:
        if not isinstance(value, str) or value not in PLATFORMS:
            raise PydanticCustomError("platform", "{msg}", {"msg": _platform_problem(str(value))})
        return value

    @field_validator("user_id", mode="before")
    @classmethod
    def _user_id(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "user_id", "must be a string of 1 to {most} characters", {"most": MAX_USER_ID}
            )
        try:
            return check_user_id(value)
        except BadUserId as error:
            problem = _user_id_problem(error)
            raise PydanticCustomError("user_id", "{msg}", {"msg": problem}) from None


class ConnectParams(BaseModel):
    """The accounts to connect: a list, or lines of text that name them (exactly one of the
    two)."""

    accounts: list[AccountToConnect] | None = Field(
        None,
        min_length=1,
        max_length=MAX_ACCOUNTS,
        description="The accounts, in this order, each named once. An account already stored "
        "is updated in place.",
    )
    lines: str | None = Field(
        None,
        max_length=MAX_LINES_CHARS,
        description="The accounts as lines of `platform,user_id` (a CSV file's text): a "
        "header row `platform,user_id` may come first; blank lines and spaces around values "
        "are ignored. Every bad line is named with its number.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> "ConnectParams":
        if (self.accounts is None) == (self.lines is None):
            raise PydanticCustomError("one_form", "give accounts or lines, one of the two")
        return self


class AccountsToConnect(BaseModel):
    """What a bulk connect stores as its parameters: the checked list of accounts."""

    accounts: list[AccountToConnect]


class BadLines(ValueError):
    """Lines of accounts that cannot be read: `problems` lists every one as (line number or
    None for the text as a whole, what is wrong)."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__("; ".join(self.messages))

    @property
    def messages(self) -> list[str]:
        """Each problem in one line: "line 4: unknown platform 'tiktk'..."."""
        return [msg if line is None else f"line {line}: {msg}" for line, msg in self.problems]


def decode(data: bytes) -> str:
    """An uploaded file's text (UTF-8, a byte order mark dropped); BadLines when it is not
    text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadLines([(None, f"the file is not UTF-8 text (byte {error.start + 1})")]) from None


def _is_header(cells: list[str]) -> bool:
    names = [cell.strip().lower().replace(" ", "_").replace("-", "_") for cell in cells]
    return len(names) == 2 and names[0] == HEADER[0] and names[1] in USER_ID_HEADERS


def read_lines(text: str) -> list[dict]:
    """The accounts that lines of `platform,user_id` name, in order; BadLines naming every bad
    line by its number (unknown platform, user id missing or too long, too many values, a line
    that repeats an earlier one), or the text as a whole when it names no account or too
    many."""
    problems: list[tuple[int | None, str]] = []
    accounts: list[dict] = []
    first_line: dict[tuple[str, str], int] = {}
    header_allowed = True
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], skipinitialspace=True))
        except csv.Error as error:
            problems.append((number, f"cannot be read as CSV ({error})"))
            continue
        if header_allowed and _is_header(cells):
            header_allowed = False
            continue
        header_allowed = False
        cells = [cell.strip() for cell in cells]
        while len(cells) > 2 and not cells[-1]:
            cells.pop()  # a trailing comma
        if len(cells) > 2:
            problems.append((number, f"{len(cells)} values; expected platform,user_id"))
            continue
        platform = cells[0].lower()
        if not platform:
            problems.append((number, "platform missing"))
            continue
        if platform not in PLATFORMS:
            problems.append((number, _platform_problem(cells[0])))
            continue
        try:
            user_id = check_user_id(cells[1] if len(cells) > 1 else "")
        except BadUserId as error:
            problems.append((number, _user_id_problem(error)))
            continue
        key = (platform, user_id)
        if key in first_line:
            problems.append((number, f"repeats line {first_line[key]}"))
            continue
        first_line[key] = number
        accounts.append({"platform": platform, "user_id": user_id})
    if not problems and not accounts:
        problems.append((None, "no accounts: give lines of platform,user_id"))
    if len(accounts) > MAX_ACCOUNTS:
        problems.append(
            (None, f"{len(accounts):,} accounts; a bulk connect takes at most {MAX_ACCOUNTS:,}")
        )
    if problems:
        raise BadLines(problems)
    return accounts


def _repeats(accounts: list[dict]) -> list[tuple[str, str]]:
    """Each account named again, located where it is and naming where it came first."""
    first: dict[tuple[str, str], int] = {}
    found = []
    for index, account in enumerate(accounts):
        key = (account["platform"], account["user_id"])
        if key in first:
            found.append(
                (
                    f"accounts[{index}]",
                    f"repeats accounts[{first[key]}] ({describe(account)})",
                )
            )
        else:
            first[key] = index
    return found


def prepare(params: ConnectParams) -> AccountsToConnect:
    """The list of accounts, read from the lines when given so; InvalidParams naming every bad
    line (at `lines`) or every repeated account (at its index)."""
    if params.lines is not None:
        try:
            accounts = read_lines(params.lines)
        except BadLines as error:
            raise InvalidParams([("lines", message) for message in error.messages]) from None
    else:
        accounts = [account.model_dump() for account in params.accounts]
        repeated = _repeats(accounts)
        if repeated:
            raise InvalidParams(repeated[:REPEATS_NAMED])
    return AccountsToConnect.model_validate({"accounts": accounts})


def items(params: dict) -> list[dict]:
    return list(params["accounts"])


def describe(account: Any) -> str:
    return f"{LABELS[account['platform']]} account {account['user_id']}"


def _outcome(status: str) -> str:
    """A stored write's status as the result counts it: a new profile is `stored`."""
    return "stored" if status == "created" else status


def run(item: Item) -> Done:
    """Connect the account: fetch it, check it and store it (new) or update it (already
    stored); a rejected account stores nothing and says why. Calls to each platform are
    paced below its rate limit."""
    account = item.value
    item.pace(account["platform"])
    outcome = onboarding.connect_account(
        account["platform"],
        account["user_id"],
        onboarding.Audit(item.actor, "connect"),
        lambda session, status: item.staged(session, _outcome(status)),
    )
    if not outcome.accepted:
        return Done("rejected", f"not stored: {outcome.reason}")
    return Done(_outcome(outcome.status))


CONNECT = Kind(
    name="connect",
    label="Connect accounts",
    params=ConnectParams,
    prepare=prepare,
    items=items,
    describe=describe,
    run=run,
)
