"""Captions for the mock catalogue's videos that read like real posts in their category.

A caption is a template filled with the category's vocabulary, then a few of the video's
hashtags (those of its category first) and, on some videos, an emoji of the category. It is
made from a SHA-256 digest of the video's id, its topic and its hashtags, never from Python's
hash(), so a video has the same caption in every process, and nothing of it is kept in memory:
the catalogue makes it when it sends the video.
"""

import hashlib
import struct

# Per category: what its posts are about (noun phrases, lower case, each fits "my ...",
# "this ...") and the emoji its posts carry.
VOCABULARY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Music": (
        (
            "new single",
            "acoustic cover",
            "guitar riff",
            "live set",
            "studio session",
            "chorus",
            "bass line",
            "vinyl haul",
            "piano cover",
        ),
        ("🎵", "🎶", "🎸", "🎤"),
    ),
    "Dance": (
        (
            "choreo",
            "dance challenge",
            "freestyle",
            "routine",
            "footwork combo",
            "transition",
            "duet dance",
            "hip hop routine",
        ),
        ("💃", "🕺", "🔥"),
    ),
    "Comedy": (
        (
            "prank",
            "skit",
            "impression",
            "stand-up bit",
            "roommate skit",
            "office skit",
            "meme",
            "plot twist",
        ),
        ("😂", "🤣", "💀"),
    ),
    "Entertainment": (
        (
            "red carpet look",
            "celebrity interview",
            "award show moment",
            "reality show recap",
            "behind the scenes clip",
            "fan theory",
        ),
        ("✨", "🎬", "👀"),
    ),
    "Education": (
        (
            "study routine",
            "history lesson",
            "language tip",
            "math trick",
            "exam prep plan",
            "vocabulary list",
            "note-taking method",
        ),
        ("📚", "🧠", "✏️"),
    ),
    "Technology": (
        (
            "phone setup",
            "laptop review",
            "coding tip",
            "desk setup",
            "smart home gadget",
            "keyboard build",
            "AI tool",
            "battery test",
        ),
        ("💻", "📱", "⚙️"),
    ),
    "Science": (
        (
            "chemistry experiment",
            "space photo",
            "physics demo",
            "lab result",
            "rocket launch",
            "fossil find",
            "telescope view",
        ),
        ("🔬", "🧪", "🚀"),
    ),
    "Gaming": (
        (
            "speedrun",
            "boss fight",
            "ranked match",
            "clutch play",
            "new build",
            "game review",
            "stream highlight",
            "controller setup",
        ),
        ("🎮", "🕹️", "🏆"),
    ),
    "Sports": (
        (
            "match highlight",
            "last-minute goal",
            "training drill",
            "derby day",
            "transfer news",
            "game recap",
            "penalty save",
        ),
        ("⚽", "🏀", "🏆"),
    ),
    "Fitness": (
        (
            "leg day",
            "home workout",
            "morning run",
            "deadlift PR",
            "core routine",
            "stretching session",
            "gym progress",
        ),
        ("💪", "🏋️", "🔥"),
    ),
    "Food": (
        (
            "pasta recipe",
            "street food",
            "sourdough loaf",
            "brunch spot",
            "ramen bowl",
            "dessert recipe",
            "meal prep",
            "taco night",
        ),
        ("🍜", "🍝", "🥐", "😋"),
    ),
    "Travel": (
        (
            "weekend in Lisbon",
            "hidden beach",
            "road trip",
            "mountain hike",
            "hotel view",
            "packing list",
            "sunset over Bali",
            "night train",
        ),
        ("✈️", "🌍", "🏝️"),
    ),
    "Fashion": (
        (
            "outfit of the day",
            "thrift haul",
            "capsule wardrobe",
            "fall lookbook",
            "street style",
            "sneaker collection",
            "styling tip",
        ),
        ("👗", "👟", "✨"),
    ),
    "Beauty": (
        (
            "makeup look",
            "skincare routine",
            "glass skin routine",
            "lip combo",
            "eyeliner trick",
            "nail art",
            "foundation review",
        ),
        ("💄", "💅", "✨"),
    ),
    "Lifestyle": (
        (
            "morning routine",
            "Sunday reset",
            "day in my life",
            "apartment tour",
            "productive evening",
            "slow weekend",
            "self-care night",
        ),
        ("☕", "🌿", "✨"),
    ),
    "Pets": (
        (
            "golden retriever",
            "rescue kitten",
            "dog walk",
            "cat zoomies",
            "puppy training",
            "bunny",
            "parrot",
        ),
        ("🐶", "🐱", "🐾"),
    ),
    "Art": (
        (
            "watercolor painting",
            "sketchbook tour",
            "oil portrait",
            "digital drawing",
            "mural",
            "pottery piece",
            "ink study",
        ),
        ("🎨", "🖌️", "✏️"),
    ),
    "DIY": (
        (
            "shelf build",
            "room makeover",
            "upcycled dresser",
            "woodworking project",
            "crochet bag",
            "garden bed",
            "tile job",
        ),
        ("🔨", "🪚", "🧶"),
    ),
    "News": (
        (
            "breaking story",
            "morning briefing",
            "press conference",
            "live update",
            "election night",
            "headline",
            "fact check",
        ),
        ("📰", "🗞️", "🔴"),
    ),
    "Business": (
        (
            "startup story",
            "side hustle",
            "pitch deck",
            "marketing plan",
            "product launch",
            "founder interview",
            "sales tip",
        ),
        ("📈", "💼", "🚀"),
    ),
    "Finance": (
        (
            "budget plan",
            "index fund",
            "rate decision",
            "savings challenge",
            "stock pick",
            "crypto chart",
            "tax tip",
        ),
        ("💰", "📊", "📈"),
    ),
    "Health": (
        (
            "sleep routine",
            "mental health check-in",
            "nutrition tip",
            "hydration habit",
            "doctor's advice",
            "posture fix",
            "gut health guide",
        ),
        ("🩺", "🧘", "💚"),
    ),
    "Family": (
        (
            "toddler",
            "family dinner",
            "bedtime routine",
            "first birthday",
            "school run",
            "weekend with the kids",
            "parenting hack",
        ),
        ("👨‍👩‍👧", "🍼", "❤️"),
    ),
    "Nature": (
        (
            "forest walk",
            "waterfall",
            "wildflower meadow",
            "sunrise hike",
            "bird sighting",
            "national park",
            "autumn leaves",
        ),
        ("🌲", "🌿", "🌄"),
    ),
    "Automotive": (
        (
            "car build",
            "engine swap",
            "track day",
            "detailing job",
            "EV road test",
            "classic restoration",
            "exhaust sound",
        ),
        ("🚗", "🏁", "🔧"),
    ),
    "Film & TV": (
        (
            "movie review",
            "season finale",
            "trailer breakdown",
            "series recap",
            "director's cut",
            "film ranking",
            "box office weekend",
        ),
        ("🎬", "🍿", "📺"),
    ),
    "Photography": (
        (
            "golden hour shot",
            "street photo",
            "film roll",
            "portrait session",
            "camera settings",
            "editing preset",
            "lens test",
        ),
        ("📸", "📷", "🌅"),
    ),
    "Books": (
        (
            "book haul",
            "reading list",
            "fantasy series",
            "book review",
            "thriller",
            "reading nook",
            "annotated copy",
        ),
        ("📚", "📖", "☕"),
    ),
    "Politics": (
        (
            "debate clip",
            "policy thread",
            "campaign rally",
            "vote count",
            "new bill",
            "senate hearing",
            "poll result",
        ),
        ("🗳️", "🏛️", "📢"),
    ),
    "History": (
        (
            "ancient Rome",
            "medieval castle",
            "archive photo",
            "forgotten empire",
            "war diary",
            "museum find",
            "old map",
        ),
        ("🏛️", "📜", "⏳"),
    ),
    "Anime": (
        (
            "anime opening",
            "cosplay",
            "manga panel",
            "fight scene",
            "seasonal lineup",
            "fan art",
            "figure collection",
        ),
        ("🍥", "⚔️", "✨"),
    ),
}

# {thing} and {other}: two of the category's phrases; {n}: a small number.
TEMPLATES: tuple[str, ...] = (
    "Trying a new {thing} today, thoughts?",
    "POV: your {thing} finally works out",
    "My honest take on this {thing}",
    "Day {n} of sharing my {thing}",
    "Nobody talks about this {thing} enough",
    "Saving this {thing} for later",
    "{Thing} or {other}? Tell me below",
    "The {thing} I can't stop thinking about",
    "{n} things I learnt from my {thing}",
    "Quick {thing} before the weekend",
    "This {thing} took me {n} tries",
    "Rate this {thing} from 1 to 10",
    "Part {n}: the {thing} you asked for",
    "Finally, the {thing} and the {other} together",
    "Is this the best {thing} of the year?",
    "Reply to @followers: here is the {thing}",
)
# Words the templates bring (lower case, without punctuation), for tests that captions hold
# nothing else besides their category's words, hashtags and emoji.
TEMPLATE_WORDS = frozenset(
    word.strip("?:,.@").lower()
    for template in TEMPLATES
    for word in template.replace("{Thing}", " ")
    .replace("{thing}", " ")
    .replace("{other}", " ")
    .replace("{n}", " ")
    .split()
) - {""}
EMOJI_SHARE = 0.3
MAX_CAPTION_TAGS = 3
_WORDS = struct.Struct(">8I")


def caption(
    video_id: str, topic: str, hashtags: tuple[str, ...] | None, tags: tuple[str, ...]
) -> str:
    """The caption of a video about `topic`: a template filled with the topic's vocabulary,
    then up to MAX_CAPTION_TAGS hashtags (the video's own when it has some, `tags` of its
    topic otherwise), sometimes an emoji; the same video id, topic and hashtags always give
    the same caption."""
    digest = hashlib.sha256(f"caption\x1f{video_id}\x1f{topic}".encode()).digest()
    rolls = _WORDS.unpack(digest)
    things, emoji = VOCABULARY[topic]
    template = TEMPLATES[rolls[0] % len(TEMPLATES)]
    thing = things[rolls[1] % len(things)]
    other = things[(rolls[1] + 1 + rolls[2] % (len(things) - 1)) % len(things)]
    text = template.format(
        thing=thing, Thing=thing[:1].upper() + thing[1:], other=other, n=2 + rolls[3] % 9
    )
    if hashtags:
        topical = [tag for tag in hashtags if tag in tags] or list(hashtags)
    else:
        start = rolls[4] % len(tags)
        topical = [tags[(start + step) % len(tags)] for step in range(min(2, len(tags)))]
    shown = topical[: 1 + rolls[5] % MAX_CAPTION_TAGS]
    if rolls[6] / 2**32 < EMOJI_SHARE:
        text += " " + emoji[rolls[7] % len(emoji)]
    return " ".join([text, *shown])
