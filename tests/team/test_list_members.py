"""A list's members chosen, sorted and paged in the database: on a seeded list, every filter
(text, platform, status, tag) and their mixes choose what a Python recount of the whole list
chooses, every sort orders as Python does, and the pages add up to the whole."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Profile, ProfileSnapshot
from webapp.services.accounts import audit
from webapp.services.catalogue import profiles
from webapp.services.ingestion.seeding import seed_profiles
from webapp.services.team import lists
from webapp.services.team.lists import MemberQuery

from ..factories import add_snapshot

TESTER = audit.Actor("tester")
# "vip" is a part of "vip list" and of 'say "vip"': a match is the whole tag, never a part.
TAGS = ("vip", "vip list", 'say "vip"', "gaming", "late")
SORTS = lists.MEMBER_SORTS


@pytest.fixture
def seeded(app):
    """A list of every seeded profile, each member with a status and up to three tags drawn
    at random, some with a later snapshot (a change since added), one never snapshotted
    (no change known); the list's id."""
    chance = random.Random(12)
    with app.app_context():
        seed_profiles(60, min_likes=100, workers=1, seed=12)
        ids = list(db.session.scalars(select(Profile.id).order_by(Profile.id)))
        assert len(ids) >= 40
        bare = ids[-1]
        db.session.execute(
            ProfileSnapshot.__table__.delete().where(ProfileSnapshot.profile_id == bare)
        )
        db.session.commit()
        made = lists.create_list("Seeded", TESTER)
        lists.add_members(made.id, ids, TESTER)
        later = {}
        for pk in ids[:-1]:
            if chance.random() < 0.6:
                later[pk] = chance.randrange(0, 100_000)
        for pk in ids:
            lists.update_member(
                made.id,
                pk,
                TESTER,
                status=chance.choice(lists.STATUSES),
                tags=chance.sample(TAGS, chance.randrange(0, 4)),
            )
        taken = db.session.scalar(
            select(ProfileSnapshot.taken_at).order_by(ProfileSnapshot.taken_at.desc())
        )
        list_id = made.id
    for pk, followers in later.items():
        add_snapshot(app, pk, taken + timedelta(days=7), followers, chance.random() / 10)
    return list_id


def _names(app) -> dict[int, tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(select(Profile.id, Profile.username, Profile.user_pseudo))
        return {pk: (name.lower(), (pseudo or "").lower()) for pk, name, pseudo in rows}


def _recount(everyone: list[dict], names, q="", platform=None, status=None, tag=None) -> set:
    return {
        m["profile_id"]
        for m in everyone
        if (not q or any(q in name for name in names[m["profile_id"]]))
        and (platform is None or m["platform"] == platform)
        and (status is None or m["status"] == status)
        and (tag is None or tag in m["tags"])
    }


def test_sql_filters_choose_what_a_python_recount_chooses(app, seeded):
    names = _names(app)
    with app.app_context():
        everyone = lists.members(seeded)
        platforms = sorted({m["platform"] for m in everyone})
        assert len(platforms) > 1 and len({m["status"] for m in everyone}) == 5
        texts = ["", "a", names[everyone[3]["profile_id"]][0][1:5], "zzzz-none"]
        checked = 0
        for q in texts:
            for platform in [None, *platforms]:
                for status in [None, *lists.STATUSES]:
                    for tag in [None, *TAGS]:
                        query = MemberQuery(q=q, platform=platform, status=status, tag=tag)
                        expected = _recount(everyone, names, q, platform, status, tag)
                        found = lists.members(seeded, query)
                        assert {m["profile_id"] for m in found} == expected, query
                        assert lists.members_page(seeded, query)["total"] == len(expected)
                        checked += bool(expected)
    assert checked > 100, "the seeded list gives most mixes some members"


def test_a_tag_matches_whole_tags_only_and_in_any_case(app, seeded):
    with app.app_context():
        everyone = lists.members(seeded)
        vip = {m["profile_id"] for m in everyone if "vip" in m["tags"]}
        partial_only = {
            m["profile_id"]
            for m in everyone
            if "vip" not in m["tags"] and {"vip list", 'say "vip"'} & set(m["tags"])
        }
        assert partial_only, "the seed has members whose tags hold 'vip' only as a part"
        found = {m["profile_id"] for m in lists.members(seeded, MemberQuery(tag="VIP"))}
        quoted = lists.members(seeded, MemberQuery(tag='say "vip"'))
    assert found == vip and not found & partial_only
    assert {m["profile_id"] for m in quoted} == {
        m["profile_id"] for m in everyone if 'say "vip"' in m["tags"]
    }


def _value(member: dict, sort: str):
    changes = member["changes"]
    return {
        "added": member["added_at"],
        "username": member["username"],
        "platform": member["platform"],
        "status": lists.STATUSES.index(member["status"]),
        "followers": member["followers_count"],
        "engagement": member["engagement_rate"],
        "change": changes["followers_count"]["change"] if changes else None,
    }[sort]


def _python_order(everyone: list[dict], sort: str, order: str) -> list[int]:
    """Ids sorted by `sort`, no value last, ties by when added then id (both ascending)."""
    ties = sorted(everyone, key=lambda m: (m["added_at"], m["profile_id"]))
    known = [m for m in ties if _value(m, sort) is not None]
    unknown = [m for m in ties if _value(m, sort) is None]
    known.sort(key=lambda m: _value(m, sort), reverse=order == "desc")  # stable: ties kept
    return [m["profile_id"] for m in known + unknown]


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_orders_as_python_does(app, seeded, sort, order):
    with app.app_context():
        everyone = lists.members(seeded)
        found = lists.members(seeded, MemberQuery(sort=sort, order=order))
        if db.engine.dialect.name == "postgresql" and sort == "username":
            # PostgreSQL orders text by the database's collation, not by code point.
            names = [m["username"] for m in found]
            rows = db.session.execute(
                select(Profile.username)
                .where(Profile.username.in_(names))
                .order_by(Profile.username.desc() if order == "desc" else Profile.username)
            )
            assert names == list(rows.scalars())
            return
    assert [m["profile_id"] for m in found] == _python_order(everyone, sort, order)
    if sort == "change":
        assert found[-1]["changes"] is None, "a member with no known change comes last"


@pytest.mark.parametrize(
    "sort, order", [("followers", "desc"), ("status", "asc"), ("added", "asc")]
)
def test_pages_add_up_to_the_whole_with_one_total(app, seeded, sort, order):
    with app.app_context():
        whole = [
            m["profile_id"] for m in lists.members(seeded, MemberQuery(sort=sort, order=order))
        ]
        pages, seen, number = [], [], 1
        while True:
            page = lists.members_page(
                seeded, MemberQuery(sort=sort, order=order, page=number, per_page=7)
            )
            pages.append(page)
            if not page["items"]:
                break
            seen += [m["profile_id"] for m in page["items"]]
            number += 1
    assert seen == whole
    assert {page["total"] for page in pages} == {len(whole)}
    assert number - 1 == profiles.page_count(len(whole), 7)
    assert all(len(page["items"]) == 7 for page in pages[:-2])


def test_one_unknown_profiles_refusal_serves_lists_and_the_table(app):
    assert lists.UnknownProfiles is profiles.UnknownProfiles
    with app.app_context():
        made = lists.create_list("Brief", TESTER)
        with pytest.raises(profiles.UnknownProfiles) as added:
            lists.add_members(made.id, [999_998, 999_999], TESTER)
        with pytest.raises(profiles.UnknownProfiles) as deleted:
            profiles.delete_profiles([999_999], TESTER)
    assert added.value.ids == [999_998, 999_999]
    assert str(added.value) == "No profiles with ids 999998, 999999: nothing was added."
    assert str(deleted.value) == "No profile with id 999999: nothing was done."
