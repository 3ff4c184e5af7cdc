"""Demo content built from the facts of the seed live page, written in our own words.

Everything is keyed by slug or headline, so loading twice changes nothing.
State changes go through liveupdates.editorial.workflow like any editor's would.
"""

import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from liveupdates import images
from liveupdates.editorial import cards, workflow
from liveupdates.models import (
    Author,
    Card,
    Citation,
    Column,
    Entry,
    LivePost,
    Place,
    PostStatus,
    Source,
    SourceAccount,
    normalise_account,
)

COLUMN = {
    "slug": "putin-in-syria",
    "name": "Putin in Syria",
    "description": "Russia's military campaign in Syria, day by day: the air strikes, the front lines and the diplomacy around them.",
}

AUTHOR = {"slug": "pierre-vaux", "name": "Pierre Vaux", "bio": "Covers the war in Syria and Russia's role in it."}

# (slug, name, kind, parent slug, latitude, longitude, alternative spellings)
PLACES = [
    ("syria", "Syria", "country", None, "35.00000", "38.50000", ""),
    ("lebanon", "Lebanon", "country", None, "33.85000", "35.86000", ""),
    ("beirut", "Beirut", "city", "lebanon", "33.89380", "35.50180", "Bayrut"),
    ("golan-heights", "Golan Heights", "area", None, "33.00000", "35.75000", "Golan"),
    ("hama-province", "Hama province", "province", "syria", "35.13000", "36.75000", "Hama governorate"),
    ("sukayk", "Sukayk", "village", "hama-province", None, None, "Sukaik\nSkeik"),
    ("tiba-emam", "Tiba Emam", "town", "hama-province", "35.26500", "36.71300", "Taybat al-Imam\nTayyibat al-Imam"),
    ("aleppo-province", "Aleppo province", "province", "syria", "36.20000", "37.40000", "Aleppo governorate"),
    ("aleppo", "Aleppo", "city", "aleppo-province", "36.20210", "37.13430", "Halab"),
    ("firdous", "Firdous", "neighbourhood", "aleppo", None, None, "al-Firdaws"),
    ("salhin", "Salhin", "neighbourhood", "aleppo", None, None, "al-Salihin"),
    ("al-myassar", "al-Myassar", "neighbourhood", "aleppo", None, None, "al-Mayasar\nMaysar"),
    ("deir-hafir", "Deir Hafir", "town", "aleppo-province", "36.15700", "37.70600", "Dayr Hafir"),
    ("hayyan", "Hayyan", "town", "aleppo-province", "36.31600", "37.05800", "Hayan"),
    ("rif-dimashq", "Rif Dimashq province", "province", "syria", "33.50000", "36.60000", "Damascus countryside"),
    ("damascus", "Damascus", "city", "syria", "33.51380", "36.27650", "Dimashq"),
    ("douma", "Douma", "city", "rif-dimashq", "33.57170", "36.40170", "Duma"),
    ("daraa-province", "Daraa province", "province", "syria", "32.75000", "36.25000", "Deraa\nDar'a"),
    ("al-harra", "al-Harra", "town", "daraa-province", "33.06300", "36.00300", "Harra"),
    ("tell-mutawwaq", "Tell Mutawwaq", "area", "daraa-province", None, None, "Tal Mutawaq"),
]

# (slug, name, kind, homepage, one-line description)
SOURCES = [
    ("smart-news-agency", "SMART News Agency", "news_agency", "", "Syrian opposition news agency that films on the front lines."),
    (
        "local-coordination-committees",
        "Local Coordination Committees",
        "activist_network",
        "",
        "Network of Syrian activists reporting casualties and strikes (LCC).",
    ),
    ("syria-institute", "Syria Institute", "ngo", "", "Research group based in Aleppo."),
    (
        "institute-for-the-study-of-war",
        "Institute for the Study of War",
        "think_tank",
        "https://www.understandingwar.org/",
        "Washington think tank that tracks the conflict.",
    ),
    ("now-lebanon", "NOW Lebanon", "news_site", "", "Lebanese news site."),
    ("alaraby-aljadeed", "Alaraby Aljadeed", "newspaper", "", "London-based Arabic daily."),
    ("qasioun-news-network", "Qasioun News Network", "news_agency", "", "Pro-opposition news network."),
    ("al-akhbar", "al-Akhbar", "newspaper", "", "Lebanese daily close to Hezbollah."),
]

PREVIOUS_POST = {
    "slug": "russian-jets-turn-to-southern-syria",
    "headline": "Russian jets turn to southern Syria, near the Golan Heights",
    "summary": "Russian aircraft struck rebel-held areas in the south of the country for the first time, opening a new front far from Aleppo and Hama.",
}

MAIN_POST = {
    "slug": "russian-jets-strike-daraa-again",
    "headline": "Russian jets hit Daraa province again as a southern offensive looms",
    "summary": "A second round of Russian strikes in Daraa province this week, and reports that Moscow sought coordination with Lebanon's army and Hezbollah before a regime push in the south.",
    "what_we_know": "\n".join(
        (
            "Russian aircraft struck rebel-held parts of Daraa province for the second time this week.",
            "Moscow is reported to have asked Beirut for intelligence from the Lebanese army and Hezbollah on the border.",
            "A regime source says fronts in the south will open soon; rebels have not confirmed any ground push.",
            "Activists report 14 civilians killed in Douma, near Damascus; we have not verified the toll.",
        )
    ),
}

VIDEO = '<p><iframe src="https://www.youtube-nocookie.com/embed/{id}" title="{title}" allowfullscreen></iframe></p>'


@dataclass
class DemoEntry:
    headline: str
    body: str
    minutes_ago: int
    places: tuple = ()
    sources: tuple = ()
    tags: tuple = ()
    key_event: bool = False
    pinned: bool = False
    image: str = ""  # name of a generated demo photo to put in the body
    correction: str = ""  # a public correction the editor attached after publishing
    card: str = ""  # a key of DEMO_CARDS: the cited post, archived, placed at the end of the text
    verification: tuple = ()  # (state, method, note) an editor set
    citing: str = ""  # the slug of the source the first cited source itself cites


PREVIOUS_ENTRIES = [
    DemoEntry(
        "First strikes in the south",
        "<p>Russian aircraft have begun hitting rebel-held territory in southern Syria, close to the Golan Heights, "
        "the first time the campaign has reached this far south.</p>",
        60 * 26,
        places=("golan-heights", "daraa-province"),
        tags=("air strikes", "southern front"),
        key_event=True,
    ),
    DemoEntry(
        "Why the south matters",
        "<p>Analysts read the new targets as a sign that Moscow is preparing the ground for a regime offensive "
        "along the Jordanian and Israeli-held frontiers.</p>",
        60 * 25,
        places=("daraa-province",),
        tags=("southern front",),
    ),
]

MAIN_ENTRIES = [
    DemoEntry(
        "Strikes on al-Harra and Tell Mutawwaq",
        "<p>Footage published by Qasioun News Network, which backs the opposition, shows Russian aircraft attacking "
        "the town of al-Harra and the nearby Tell Mutawwaq in Daraa province today.</p>",
        400,
        places=("al-harra", "tell-mutawwaq"),
        sources=(("qasioun-news-network", ""),),
        card="qasioun-harra",
        tags=("air strikes", "southern front"),
    ),
    DemoEntry(
        "Su-34 filmed over al-Harra",
        "<p>A video said to show a Russian Sukhoi Su-34 bomber passing over al-Harra:</p>"
        + VIDEO.format(id="Su34alHarra1", title="Su-34 bomber over al-Harra"),
        385,
        places=("al-harra",),
        sources=(("qasioun-news-network", ""),),
        tags=("Su-34", "video"),
        verification=("unverified", "", "We could not confirm where or when this video was filmed."),
    ),
    DemoEntry(
        "Civilians hurt in al-Harra",
        "<p>The Local Coordination Committees say civilians were among the wounded in the strike on al-Harra.</p>",
        370,
        places=("al-harra",),
        sources=(("local-coordination-committees", ""),),
        tags=("casualties",),
    ),
    DemoEntry(
        "Regime source: southern fronts to open soon",
        "<p>Citing al-Akhbar, the Lebanese daily close to Hezbollah, NOW Lebanon reports a Syrian regime source "
        "as saying the army expects to activate several fronts in the south very soon.</p>",
        340,
        places=("daraa-province",),
        sources=(("now-lebanon", ""),),
        citing="al-akhbar",
        tags=("southern front",),
        key_event=True,
    ),
    DemoEntry(
        "Moscow asked Beirut for border intelligence",
        "<p>NOW Lebanon, citing Alaraby Aljadeed, reports that Russia has asked Lebanon for the positions of Lebanese army "
        "and Hezbollah units on the Lebanese side of the Syrian border, as well as information on armed groups across it.</p>"
        "<p>According to diplomatic sources quoted by the London-based paper, the request went through military channels "
        "between the two countries rather than the Russian embassy. Lebanese political sources said similar requests had "
        "arrived after the international coalition began striking ISIS.</p>",
        300,
        places=("beirut", "lebanon"),
        sources=(("now-lebanon", ""),),
        citing="alaraby-aljadeed",
        tags=("diplomacy", "Hezbollah"),
        key_event=True,
        card="now-lebanon-request",
    ),
    DemoEntry(
        "Fourteen civilians killed in Douma, activists say",
        "<p>Seven Russian air strikes on Douma, about 10 km north-east of Damascus, killed 14 civilians and wounded 20, "
        "according to the Local Coordination Committees. Videos posted online show smoke rising over the town and heavy "
        "damage to one neighbourhood.</p>",
        240,
        places=("douma",),
        sources=(("local-coordination-committees", ""),),
        tags=("air strikes", "casualties"),
        key_event=True,
        card="lcc-douma",
        verification=("unverified", "", "Casualty figures from the Local Coordination Committees."),
        correction="An earlier version of this update placed Douma north-west of Damascus. It lies about 10 km to the north-east.",
    ),
    DemoEntry(
        "ISW: air campaign compensates for a stalled offensive",
        "<p>The Institute for the Study of War says Russia's air force has intensified its attacks on rebel-held parts of Aleppo "
        "because the regime and Iranian ground offensive launched earlier this month has largely stalled.</p>",
        200,
        places=("aleppo",),
        sources=(("institute-for-the-study-of-war", "https://www.understandingwar.org/"),),
        tags=("analysis",),
        card="isw-aleppo",
    ),
    DemoEntry(
        "Cluster munition remnants photographed in al-Myassar",
        "<p>The Syria Institute, based in Aleppo, has published photographs of submunitions it says came from a cluster bomb "
        "dropped on the al-Myassar neighbourhood overnight. They resemble Russian AO-2.5RT anti-personnel bomblets, which "
        "are scattered from air-dropped cluster bombs.</p>",
        160,
        places=("al-myassar",),
        sources=(("syria-institute", ""),),
        tags=("cluster munitions", "photo"),
        image="submunitions",
    ),
    DemoEntry(
        "Strikes reported around Aleppo and Damascus",
        "<p>Residential areas near Damascus and Aleppo have been hit by Russian jets, according to reports. Video from Hayyan, "
        "a town some 15 km north-west of Aleppo, shows three strikes on the town, with homes clearly hit.</p>"
        "<p>The Local Coordination Committees also report bombing in the Firdous and Salhin neighbourhoods of Aleppo, in Deir Hafir "
        "and in the town of Tiba Emam, with casualties.</p>",
        90,
        places=("hayyan", "firdous", "salhin", "deir-hafir", "tiba-emam", "damascus"),
        sources=(("local-coordination-committees", ""),),
        tags=("air strikes",),
    ),
    DemoEntry(
        "Jets return to Sukayk after rebels retake it",
        "<p>Russian jets have bombed the village of Sukayk, north-east of Hama, hours after rebel fighters took it back overnight.</p>"
        "<p>SMART News Agency footage shows Sham Corps fighters advancing on the village, followed by strikes from Su-34 and Su-25 "
        "aircraft and regime rocket artillery. Regime forces had captured Sukayk with Russian air support on 12 October.</p>",
        30,
        places=("sukayk",),
        sources=(("smart-news-agency", ""),),
        tags=("air strikes", "Su-34", "video"),
        key_event=True,
        pinned=True,
        card="smart-sukayk",
    ),
]

# The cited posts, as the archiver would have stored them: local data, written for the demo, no network.
# (network, original address, id on the network, video?, author, handle, author's page, title, text,
#  minutes before the entry it was posted, poster colour)
DEMO_CARDS = {
    "smart-sukayk": (
        "youtube",
        "https://www.youtube.com/watch?v=SukaykSMART",
        "SukaykSMART",
        True,
        "SMART News Agency",
        "@SMARTNewsAgency",
        "https://www.youtube.com/@SMARTNewsAgency",
        "Sham Corps fighters advance on Sukayk; air and rocket strikes follow",
        "",
        50,
        (92, 84, 70),
    ),
    "qasioun-harra": (
        "x",
        "https://x.com/Qasioun_News/status/656880287469297664",
        "656880287469297664",
        False,
        "Qasioun News",
        "@Qasioun_News",
        "https://x.com/Qasioun_News",
        "",
        "Russian aircraft strike al-Harra and Tell Mutawwaq in the Daraa countryside (demo text).",
        30,
        None,
    ),
    "lcc-douma": (
        "facebook",
        "https://www.facebook.com/LCCSy/posts/1015392265",
        "LCCSy/1015392265",
        False,
        "Local Coordination Committees in Syria",
        "LCCSy",
        "https://www.facebook.com/LCCSy",
        "",
        "Douma: 14 civilians killed and 20 wounded in seven Russian air strikes today (demo text).",
        20,
        None,
    ),
    "isw-aleppo": (
        "article",
        "https://www.understandingwar.org/backgrounder/russian-airstrikes-syria",
        "",
        False,
        "Institute for the Study of War",
        "",
        "",
        "Russian air campaign steps up as the Aleppo offensive stalls",
        "Analysts say Russia's air force intensified strikes on rebel-held Aleppo as the regime and Iranian ground push lost momentum (demo summary).",
        120,
        (60, 74, 96),
    ),
    "now-lebanon-request": (
        "article",
        "https://now.mmedia.me/lb/en/NewsReports/566123-russia-asks-lebanon",
        "",
        False,
        "NOW Lebanon",
        "",
        "",
        "Russia asked Lebanon for army and Hezbollah positions, Alaraby Aljadeed reports",
        "Citing Russian diplomatic sources in Beirut, the London-based daily says the request went through military channels (demo summary).",
        45,
        (110, 60, 60),
    ),
}

# Where the demo's sources publish: a card from one of these suggests the source.
SOURCE_ACCOUNTS = {
    "smart-news-agency": ("youtube.com/@SMARTNewsAgency", "t.me/smartnewsagency"),
    "qasioun-news-network": ("x.com/Qasioun_News",),
    "local-coordination-committees": ("facebook.com/LCCSy",),
    "institute-for-the-study-of-war": ("understandingwar.org",),
    "now-lebanon": ("now.mmedia.me",),
}


def _demo_card(key, entry, sources, editor):
    """The card `key` for `entry`, with a generated poster for videos and articles (no network)."""
    (network, url, canonical, video, author, handle, author_url, title, text, minutes, colour) = DEMO_CARDS[key]
    card = Card.objects.filter(entry=entry, url=url).first()
    if card is not None:
        return card
    card = Card(
        provider=network,
        url=url,
        canonical_id=canonical,
        is_video=video,
        author_name=author,
        author_handle=handle,
        author_url=author_url,
        title=title,
        text=text,
        published_at=entry.published_at - timedelta(minutes=minutes) if entry.published_at else None,
        archived_at=entry.published_at - timedelta(minutes=2) if entry.published_at else timezone.now(),
        image_alt=f"{title} (demo illustration)" if colour else "",
        created_by=editor,
    )
    card.save()
    if colour:
        poster = Image.new("RGB", (640, 360), colour)
        draw = ImageDraw.Draw(poster)
        draw.rectangle((0, 300, 640, 360), fill=(20, 20, 20))
        draw.text((16, 320), f"{author}: demo illustration", fill=(235, 235, 235))
        out = io.BytesIO()
        poster.save(out, format="JPEG", quality=80)
        content, name = images.prepared(ContentFile(out.getvalue(), name="poster.jpg"))
        card.image.save(name, content, save=False)
    card.source = cards.suggest_source(card)
    card.save()
    return card


DRAFTS = [
    # (headline, body, submit for review?)
    (
        "Checking reports of new strikes near Tell Mutawwaq",
        "<p>Activists are posting about fresh strikes near Tell Mutawwaq. Waiting for a second source before we publish.</p>",
        False,
    ),
    (
        "Hezbollah units said to be moving toward the border",
        "<p>Unconfirmed: a Lebanese outlet says Hezbollah units are moving toward the Syrian border ahead of the southern offensive.</p>",
        True,
    ),
]

PHOTO_ALT = {
    "submunitions": "Small olive-green bomblets laid out on the ground next to a ruler (demo illustration).",
}


def _demo_photo(name):
    # The name carries the size, as for uploads, so the page lists its renditions.
    path = f"{images.UPLOAD_DIR}/demo/{name}_960x540.jpg"
    if not default_storage.exists(path):
        image = Image.new("RGB", (960, 540), (72, 78, 64))
        draw = ImageDraw.Draw(image)
        for index in range(6):
            x = 140 + index * 120
            draw.ellipse((x, 220, x + 70, 300), fill=(104, 112, 70), outline=(30, 30, 20), width=4)
        draw.rectangle((120, 360, 840, 380), fill=(220, 210, 170))
        draw.text((24, 500), "Newsroom Live demo illustration", fill=(230, 230, 220))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=80)
        default_storage.save(path, ContentFile(out.getvalue()))
        images.make_renditions(default_storage, path)
    return default_storage.url(path)


def _body_with_image(entry):
    if not entry.image:
        return entry.body
    url = _demo_photo(entry.image)
    figure = (
        f'<figure><img src="{url}" alt="{PHOTO_ALT[entry.image]}" width="960" height="540">'
        "<figcaption>Photo: Syria Institute (illustration for the demo)</figcaption></figure>"
    )
    return entry.body + figure


def _upsert_reference_data():
    column, _ = Column.objects.update_or_create(slug=COLUMN["slug"], defaults={k: v for k, v in COLUMN.items() if k != "slug"})
    author, _ = Author.objects.update_or_create(slug=AUTHOR["slug"], defaults={"name": AUTHOR["name"], "bio": AUTHOR["bio"]})
    places = {}
    for slug, name, kind, parent, lat, lon, alternative in PLACES:
        place = Place.objects.filter(slug=slug).first() or Place(slug=slug)
        place.name, place.kind, place.parent = name, kind, places.get(parent)
        place.latitude, place.longitude, place.alternative_names = lat, lon, alternative
        place.reviewed = True  # the demo's places stand for ones an editor has checked
        place.save()
        places[slug] = place
    sources = {}
    for slug, name, kind, homepage, description in SOURCES:
        sources[slug], _ = Source.objects.update_or_create(
            slug=slug, defaults={"name": name, "kind": kind, "homepage": homepage, "description": description, "reviewed": True}
        )
    for slug, addresses in SOURCE_ACCOUNTS.items():
        for address in addresses:
            if not SourceAccount.objects.filter(address=normalise_account(address)).exists():
                SourceAccount.objects.create(source=sources[slug], address=address)
    return column, author, places, sources


def _post(column, spec, *, start, end, editor):
    post = LivePost.objects.filter(slug=spec["slug"]).first()
    if post is None:
        post = LivePost.objects.create(
            column=column,
            slug=spec["slug"],
            headline=spec["headline"],
            summary=spec["summary"],
            what_we_know=spec.get("what_we_know", ""),
            coverage_start=start,
            coverage_end=end,
            created_by=editor,
        )
        workflow.record_post_edit(post=post, user=editor, created=True)
    if post.status == PostStatus.DRAFT:
        workflow.publish_post(post=post, user=editor, at=start)
    return post


def _entry(post, spec, *, author, places, sources, editor, now):
    entry = Entry.objects.filter(post=post, headline=spec.headline).first()
    if entry is not None:
        return entry, False
    entry = Entry.objects.create(
        post=post, headline=spec.headline, body=_body_with_image(spec), created_by=editor, updated_by=editor
    )
    entry.authors.set([author])
    entry.places.set([places[slug] for slug in spec.places])
    for index, (slug, url) in enumerate(spec.sources):
        citing = sources[spec.citing] if spec.citing and index == 0 else None
        Citation.objects.create(entry=entry, source=sources[slug], url=url, citing=citing)
    entry.tags.set(list(spec.tags))
    if spec.card:
        entry.published_at = now - timedelta(minutes=spec.minutes_ago)
        card = _demo_card(spec.card, entry, sources, editor)
        entry.body += cards.placeholder(card)
        entry.save()
        cards.attach(entry, user=editor)
    workflow.record_edit(entry=entry, user=editor, created=True)
    if spec.verification:
        state, method, note = spec.verification
        workflow.set_verification(entry=entry, user=editor, state=state, method=method, note=note)
    workflow.publish(entry=entry, user=editor, at=now - timedelta(minutes=spec.minutes_ago))
    if spec.key_event:
        workflow.set_key_event(entry=entry, user=editor, key_event=True)
    if spec.pinned:
        workflow.pin(entry=entry, user=editor)
    if spec.correction:
        workflow.correct(entry=entry, user=editor, text=spec.correction)
    return entry, True


def ensure_demo_accounts(author):
    """Create the demo journalist and editor (debug mode only); return {username: new password}."""
    if not settings.DEBUG:
        raise RuntimeError("Demo accounts are only created in debug mode (DJANGO_DEBUG=1).")
    User = get_user_model()
    created = {}
    for username, group in (("journalist", "Journalists"), ("editor", "Editors")):
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(username=username, password=password, is_staff=True, first_name=username.title())
            created[username] = password
        user.groups.add(Group.objects.get(name=group))
    journalist = User.objects.get(username="journalist")
    if author.user_id is None and not Author.objects.filter(user=journalist).exists():
        author.user = journalist
        author.save(update_fields=["user"])
    return created


@transaction.atomic
def load(*, editor=None, create_accounts=False):
    """Load the demo; returns (new account passwords, number of entries created)."""
    column, author, places, sources = _upsert_reference_data()
    passwords = ensure_demo_accounts(author) if create_accounts else {}
    User = get_user_model()
    editor = editor or User.objects.get(username="editor")
    journalist = User.objects.filter(username="journalist").first() or editor
    now = timezone.now()

    previous = _post(column, PREVIOUS_POST, start=now - timedelta(hours=28), end=now - timedelta(hours=20), editor=editor)
    main = _post(column, MAIN_POST, start=now - timedelta(hours=7), end=None, editor=editor)
    created = 0
    for post, specs in ((previous, PREVIOUS_ENTRIES), (main, MAIN_ENTRIES)):
        for spec in specs:
            created += _entry(post, spec, author=author, places=places, sources=sources, editor=editor, now=now)[1]

    for headline, body, submit in DRAFTS:
        if Entry.objects.filter(post=main, headline=headline).exists():
            continue
        entry = Entry.objects.create(post=main, headline=headline, body=body, created_by=journalist, updated_by=journalist)
        entry.authors.set([author])
        entry.places.set([places["tell-mutawwaq"] if "Tell" in headline else places["lebanon"]])
        workflow.record_edit(entry=entry, user=journalist, created=True)
        created += 1
        if submit:
            workflow.submit_for_review(entry=entry, user=journalist)
    return passwords, created
