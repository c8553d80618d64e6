"""Build a large forum quickly: Alembic schema, then SQLAlchemy Core bulk inserts.

    python -m bench.build [DATABASE_URL] [--posts N] [--threads N] [--reset]

Nothing goes through the services or the ORM: rows are generated in Python with every NOT NULL
column filled consistently (post numbers, thread counters, search text, HTML) and inserted with
`insert()` executemany in batches of 10,000, one transaction per batch. The data are fixed by
`seed`; the time stamps end an hour before the build.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

BATCH = 10_000
USERS = 200
ORGANISATIONS = 24
WORKSHOPS_PER_GROUP = 3
BENCH_EMAIL = "bench@example.org"
BENCH_PASSWORD = "bench-forum-2026"
RARE_WORD = "kompostownik"  # in RARE_POSTS posts of the first group, whatever the size
RARE_POSTS = 25
COMMON_WORD = "harmonogram"  # in about one post in eight
HISTORY = timedelta(days=3 * 365)
MATERIALS_PER_GROUP = 60  # the list shows 50
CHAT_MESSAGES_PER_GROUP = 600  # the chat page shows the newest 50
BENCH_NOTIFICATIONS = 300  # the inbox shows 30
OTHER_NOTIFICATIONS = 10  # each other user's, so that the inbox query has others to skip
UNREAD_NOTIFICATIONS = 20  # each person's newest notifications are unread

GROUPS = (
    ("Gminy wiejskie: rozwój lokalny", "gminy-wiejskie", "rural"),
    ("Miasta średnie: usługi publiczne", "miasta-srednie", "cities"),
    ("Powiaty: współpraca ponadlokalna", "powiaty", "counties"),
    ("Szkoły: edukacja obywatelska", "szkoly", "schools"),
    ("Partnerzy programu", "partnerzy", "other"),
)

SENTENCES = (
    "Dziękuję za wczorajsze spotkanie, było bardzo konkretne.",
    "U nas budżet obywatelski ruszył w marcu i zgłoszono ponad czterdzieści projektów.",
    "Czy ktoś ma sprawdzony wzór regulaminu konsultacji społecznych?",
    "Przesyłam harmonogram prac na najbliższe dwa miesiące.",
    "Mieszkańcy najczęściej pytają o remonty dróg gminnych i oświetlenie.",
    "W naszej gminie rada seniorów spotyka się raz w miesiącu w bibliotece.",
    "Warto zaprosić sołtysów już na etapie planowania, a nie dopiero na końcu.",
    "Harmonogram naboru wniosków opublikujemy na stronie urzędu w piątek.",
    "Mamy dobre doświadczenia z dyżurami radnych w świetlicach wiejskich.",
    "Proszę o informację, kto z Państwa korzystał z platformy do głosowania online.",
    "Najtrudniejsze okazało się dotarcie do młodzieży, plakaty w szkołach nie wystarczyły.",
    "Ankieta papierowa nadal daje więcej odpowiedzi niż formularz w internecie.",
    "Zgadzam się z przedmówczynią, szczególnie w kwestii terminów.",
    "Na sesji rady przyjęliśmy uchwałę o inicjatywie lokalnej.",
    "Koszt organizacji pikniku konsultacyjnego zamknął się w kwocie dwóch tysięcy złotych.",
    "Czy harmonogram spotkań w sołectwach można jeszcze zmienić?",
    "Wydział promocji przygotował ulotki w prostym języku.",
    "Dobrze sprawdziły się spacery badawcze z mieszkańcami po centrum miejscowości.",
    "Rozmawialiśmy z dyrektorami szkół o młodzieżowej radzie gminy.",
    "Materiały ze szkolenia są w bibliotece grupy, w folderze z drugiej sesji.",
    "Pytanie do Lublina: jak rozliczacie fundusz sołecki w przypadku inwestycji wieloletnich?",
    "W Wieliczce pilotaż trwał pół roku, potem procedura weszła na stałe.",
    "Koordynatorka projektu odpowie na pytania po powrocie z urlopu.",
    "Zebraliśmy uwagi od organizacji pozarządowych i przekazaliśmy je burmistrzowi.",
    "Udało się zmniejszyć liczbę dokumentów wymaganych od wnioskodawców.",
    "Przydałby się wspólny słowniczek pojęć, bo każdy urząd nazywa to inaczej.",
    "Na następnym spotkaniu chętnie opowiem o naszym centrum organizacji pozarządowych.",
    "Mamy problem z frekwencją na zebraniach wiejskich poza sezonem.",
    "Transmisja obrad rady w internecie zwiększyła zainteresowanie mieszkańców.",
    "Łódzki przykład pokazuje, że warto zacząć od małych grantów sąsiedzkich.",
    "Proponuję, żebyśmy zebrali przykłady w jednym dokumencie przed kolejną sesją.",
    "Czy ktoś liczył, ile czasu urzędnicy poświęcają na obsługę konsultacji?",
    "Skarbnik prosi o harmonogram wydatków do końca kwartału.",
    "Bardzo ciekawy wątek, podeślę go naszej sekretarz gminy.",
    "W Gdańsku panel obywatelski trwał trzy weekendy i zakończył się rekomendacjami.",
    "Młodzież chętniej przychodzi, gdy spotkanie ma konkretny cel i krótki czas trwania.",
    "Nie mamy jeszcze doświadczeń z tym narzędziem, ale chętnie się przyłączymy.",
    "Regulamin zatwierdziła komisja, teraz czekamy na opinię radców prawnych.",
    "Ważne, żeby informacja zwrotna dla mieszkańców przychodziła szybko.",
    "Powiat zorganizował wspólne szkolenie dla pracowników pięciu gmin.",
    "Dziękujemy za zaproszenie do Krakowa, przyjedziemy w trzy osoby.",
    "Z naszej strony kontaktem będzie pani kierownik referatu rozwoju.",
    "Dobrym pomysłem okazały się dyżury konsultacyjne na targu w dzień targowy.",
    "Zmiana godzin otwarcia urzędu spotkała się z pozytywnym odbiorem.",
    "Jakie macie zasady moderowania komentarzy na profilu gminy?",
    "Wrócę do tematu po posiedzeniu zarządu powiatu.",
    "Ustaliliśmy, że protokoły z zebrań będą publikowane w ciągu tygodnia.",
    "Świetlica w Zielonce stała się miejscem spotkań wszystkich pokoleń.",
)
RARE_SENTENCE = ("Czy ktoś z Państwa prowadzi gminny kompostownik i może podzielić się "
                 "regulaminem korzystania?")

TOPICS = (
    "Budżet obywatelski", "Konsultacje społeczne", "Fundusz sołecki", "Rada seniorów",
    "Młodzieżowa rada gminy", "Inicjatywa lokalna", "Panel obywatelski", "Spacery badawcze",
    "Współpraca z organizacjami", "Informacja dla mieszkańców", "Transmisje obrad",
    "Granty sąsiedzkie", "Dostępność urzędu", "Zebrania wiejskie", "Strategia rozwoju gminy",
    "Partycypacja młodzieży", "Ankiety i badania opinii", "Centrum organizacji pozarządowych",
    "Dyżury radnych", "Prosty język w urzędzie", "Mapa potrzeb mieszkańców",
    "Rewitalizacja centrum", "Transport publiczny", "Zielone inwestycje",
)
PLACES = (
    "Lublin", "Wieliczka", "Gdańsk", "Łódź", "Kraków", "Zielonka", "Płońsk", "Sanok",
    "Ełk", "Gniezno", "Kłodzko", "Żywiec", "Bełchatów", "Nysa", "Ostrołęka", "Chełm",
    "Wągrowiec", "Świdnik", "Pułtusk", "Sieradz", "Kętrzyn", "Łowicz", "Zamość", "Jasło",
)
FIRST_NAMES = ("Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Marcin", "Agnieszka",
               "Paweł", "Joanna", "Michał", "Ewa", "Krzysztof", "Małgorzata", "Łukasz",
               "Barbara", "Grzegorz", "Zofia", "Jakub", "Dorota", "Wojciech")
LAST_NAMES = ("Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamińska",
              "Lewandowski", "Zielińska", "Szymański", "Woźniak", "Dąbrowska", "Kozłowski",
              "Jankowska", "Mazur", "Kwiatkowski")


@dataclass
class BuildInfo:
    """What run.py needs to know about a built forum."""

    database_url: str
    group_slug: str
    long_thread_id: int
    long_thread_posts: int
    groups: int
    threads: int
    posts: int
    email: str = BENCH_EMAIL
    password: str = BENCH_PASSWORD
    rare_word: str = RARE_WORD
    common_word: str = COMMON_WORD
    session_number: int = 1  # a session of the first group (its page is measured)
    materials: int = 0
    chat_messages: int = 0
    notifications: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)


# --- text ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sentence:
    text: str
    html: str  # what markdown-it + bleach make of it inside a paragraph
    folded: str  # forum.text.fold(text): fold works character by character, so it concatenates


@cache
def _sentences() -> tuple[tuple[_Sentence, ...], _Sentence]:
    from forum.text import fold

    def make(text: str) -> _Sentence:
        return _Sentence(text, html.escape(text, quote=False), fold(text))

    return tuple(make(s) for s in SENTENCES), make(RARE_SENTENCE)


def _body(rng: random.Random, rare: bool) -> tuple[str, str, str]:
    """(Markdown body, its HTML, its folded text): one or two paragraphs of 1-4 sentences."""
    pool, rare_sentence = _sentences()
    chosen = rng.sample(pool, rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))
    if rare:
        chosen.insert(rng.randrange(len(chosen) + 1), rare_sentence)
    cut = rng.randrange(1, len(chosen)) if len(chosen) > 2 and rng.random() < 0.4 else len(chosen)
    paragraphs = [p for p in (chosen[:cut], chosen[cut:]) if p]
    body = "\n\n".join(" ".join(s.text for s in p) for p in paragraphs)
    body_html = "".join("<p>" + " ".join(s.html for s in p) + "</p>\n" for p in paragraphs)
    folded = "\n\n".join(" ".join(s.folded for s in p) for p in paragraphs)
    return body, body_html, folded


def check_text_consistency(samples: int = 200, seed: int = 7) -> None:
    """The generated HTML and search text are what the app itself would store."""
    from forum.text import fold, render_markdown

    rng = random.Random(seed)
    for i in range(samples):
        body, body_html, folded = _body(rng, rare=i % 10 == 0)
        if render_markdown(body) != body_html or fold(body) != folded:
            raise AssertionError(f"generated text differs from the app's rendering: {body!r}")


# --- database --------------------------------------------------------------------------------


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def prepare_database(url: str, *, reset: bool) -> None:
    """Refuse a database that has tables unless `reset` (then empty it)."""
    if _is_sqlite(url):
        path = _sqlite_path(url)
        if path is None:
            raise ValueError("the benchmark needs an SQLite file, not an in-memory database")
        if path.exists() and path.stat().st_size > 0:
            if not reset:
                raise RuntimeError(f"{path} exists; pass reset=True (--reset) to replace it")
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    engine = sa.create_engine(url)
    try:
        existing = sa.inspect(engine).get_table_names()
        if existing:
            if not reset:
                raise RuntimeError(f"the database has tables ({len(existing)}); pass reset=True "
                                   "(--reset) to empty it")
            metadata = sa.MetaData()
            metadata.reflect(engine)
            with engine.begin() as conn:
                metadata.drop_all(conn)
    finally:
        engine.dispose()


def bench_app(url: str, work_dir: str, **overrides):
    """The app in testing mode on `url` (for migrations and in-process measurements)."""
    from forum import create_app
    from forum.config import testing_overrides

    previous = os.environ.get("FORUM_ENV")
    os.environ["FORUM_ENV"] = "testing"  # load_config must not demand production settings
    try:
        return create_app({
            **testing_overrides(url),
            "SECRET_KEY": "bench-" + "x" * 32,
            "FORUM_STORAGE_ROOT": str(Path(work_dir) / "uploads"),
            "MAIL_OUTBOX": str(Path(work_dir) / "outbox"),
            **overrides,
        })
    finally:
        if previous is None:
            os.environ.pop("FORUM_ENV", None)
        else:
            os.environ["FORUM_ENV"] = previous


def migrate(url: str, work_dir: str) -> None:
    """The schema exactly as production gets it: the Alembic migrations."""
    from flask_migrate import upgrade

    from forum.extensions import db

    app = bench_app(url, work_dir)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _sqlite_fts_tables(conn) -> list[tuple[str, list[tuple[str, str]]]]:
    """External-content FTS tables over posts and the triggers that feed them.

    Bulk loading without the triggers and rebuilding the index once is much faster; the
    triggers are recreated from their own stored SQL, i.e. exactly as the migration made them.
    Contentless or self-contained FTS tables keep their triggers (they cannot be rebuilt).
    """
    found = []
    virtual = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND lower(sql) LIKE 'create virtual table%fts%'").all()
    for name, sql in virtual:
        options = sql.lower().replace(" ", "").replace('"', "'")
        if "content=" not in options or "content=''" in options:
            continue
        triggers = [(t, s) for t, s in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
            if s and name.lower() in s.lower()]
        found.append((name, triggers))
    return found


# --- generation ------------------------------------------------------------------------------


def _aware(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _post_counts(rng: random.Random, threads: int, posts: int, long_thread: int) -> list[int]:
    """Posts per thread: the long one first, the others at least one, skewed like real life."""
    if threads == 1:
        return [posts]
    rest = posts - long_thread
    extra = rest - (threads - 1)
    weights = [rng.expovariate(1.0) for _ in range(threads - 1)]
    total = sum(weights)
    counts = [1 + int(extra * w / total) for w in weights]
    for _ in range(rest - sum(counts)):
        counts[rng.randrange(threads - 1)] += 1
    return [long_thread, *counts]


def _insert(conn, table, rows: list[dict]) -> None:
    if rows:
        with conn.begin():
            conn.execute(table.insert(), rows)


def build(database_url: str, *, groups: int = 3, threads: int = 20_000,
          posts: int = 1_000_000, long_thread: int = 5_000, seed: int = 1,
          users: int = USERS, reset: bool = False, log=print) -> BuildInfo:
    """Create the schema and fill it; returns what the benchmark needs (slug, ids, login)."""
    if not 1 <= groups <= len(GROUPS):
        raise ValueError(f"groups must be between 1 and {len(GROUPS)}")
    if threads < 1 or long_thread < 1 or posts - long_thread < threads - 1:
        raise ValueError("need posts >= long_thread + (threads - 1): every thread has a post")
    users = max(users, 12)
    started = time.perf_counter()
    steps: dict[str, float] = {}
    mark = started

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 2)
        mark = now
        log(f"  {name}: {steps[name]:.1f} s")

    log(f"Building {groups} groups, {threads:,} threads, {posts:,} posts "
        f"(one thread of {long_thread:,}) in {make_url(database_url).render_as_string()}")
    check_text_consistency()
    prepare_database(database_url, reset=reset)
    with tempfile.TemporaryDirectory(prefix="forum-bench-build-") as work_dir:
        migrate(database_url, work_dir)
    step("schema (Alembic migrations)")

    from werkzeug.security import generate_password_hash

    from forum.accounts.models import Organisation, OrganisationKind, User
    from forum.chat.models import ChatMessage
    from forum.discussions.models import Post, Reaction, Thread, ThreadRead
    from forum.groups.models import Group, Membership
    from forum.materials.models import Material, MaterialVersion
    from forum.notifications.models import Notification
    from forum.workshops.models import Workshop

    rng = random.Random(seed)
    sqlite = _is_sqlite(database_url)
    end = time.time() - 3600
    start = end - HISTORY.total_seconds()
    engine = sa.create_engine(database_url)
    info = BuildInfo(database_url=database_url, group_slug=GROUPS[0][1], long_thread_id=0,
                     long_thread_posts=long_thread, groups=groups, threads=threads, posts=posts)
    try:
        with engine.connect() as conn:
            if sqlite:
                # Outside any transaction: pysqlite opens one only before DML.
                for pragma in ("journal_mode=WAL", "synchronous=OFF", "foreign_keys=OFF",
                               "cache_size=-1000000", "temp_store=MEMORY"):
                    conn.exec_driver_sql(f"PRAGMA {pragma}")
                conn.commit()

            # People, organisations, groups, sessions.
            kinds = [k.value for k in OrganisationKind]
            _insert(conn, Organisation.__table__, [
                {"id": i, "name": f"{'Gmina' if i % 3 else 'Miasto'} {PLACES[i % len(PLACES)]} "
                                  f"{i}", "kind": kinds[i % len(kinds)], "region": "",
                 "created_at": _aware(start)} for i in range(1, ORGANISATIONS + 1)])
            cheap_hash = generate_password_hash("not-used", method="pbkdf2:sha256:1000")
            user_rows = []
            for i in range(1, users + 1):
                bench = i == 1
                user_rows.append({
                    "id": i,
                    "email": BENCH_EMAIL if bench else f"user{i}@example.org",
                    "password_hash": generate_password_hash(BENCH_PASSWORD,
                                                            method="pbkdf2:sha256:1000")
                    if bench else cheap_hash,
                    "name": "Bench Użytkownik" if bench else
                    f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "organisation_id": rng.randint(1, ORGANISATIONS),
                    "position": "", "locale": "", "time_zone": "", "active": True,
                    "is_admin": False, "alternative_id": f"bench-alt-{seed}-{i}-"
                    f"{rng.getrandbits(64):016x}", "calendar_salt": f"{rng.getrandbits(64):016x}",
                    "last_seen_at": None, "created_at": _aware(start)})
            _insert(conn, User.__table__, user_rows)
            _insert(conn, Group.__table__, [
                {"id": g + 1, "name": GROUPS[g][0], "slug": GROUPS[g][1], "description": "",
                 "kind": GROUPS[g][2], "time_zone": "Europe/Warsaw", "members_can_upload": True,
                 "created_at": _aware(start)} for g in range(groups)])
            membership_rows = []
            for g in range(1, groups + 1):
                members = range(1, users + 1) if g == 1 else [1, *sorted(
                    rng.sample(range(2, users + 1), (users - 1) // 2))]
                for position, user_id in enumerate(members):
                    membership_rows.append({
                        "id": len(membership_rows) + 1, "user_id": user_id, "group_id": g,
                        "role": "moderator" if 1 <= position <= 2 else "member",
                        "created_at": _aware(start)})
            _insert(conn, Membership.__table__, membership_rows)
            workshop_rows = []
            for g in range(1, groups + 1):
                for n in range(1, WORKSHOPS_PER_GROUP + 1):
                    day1 = date.fromtimestamp(start) + timedelta(days=200 * n + g)
                    workshop_rows.append({
                        "id": len(workshop_rows) + 1, "group_id": g, "number": n,
                        "theme": f"{TOPICS[(g + n) % len(TOPICS)]}: sesja {n}",
                        "description": "", "description_html": "", "day1": day1,
                        "day2": day1 + timedelta(days=1), "host_organisation_id": n,
                        "place": PLACES[n], "agenda_day1": "", "agenda_day1_html": "",
                        "agenda_day2": "", "agenda_day2_html": "", "cancelled_at": None,
                        "uid": f"bench-{seed}-{g}-{n}@exchange-forum", "sequence": 0,
                        "created_at": _aware(start), "updated_at": _aware(start)})
            _insert(conn, Workshop.__table__, workshop_rows)
            step(f"{users} users, {groups} groups, {len(workshop_rows)} sessions")

            # Threads: their posts' times decide every counter, so generate those first.
            counts = _post_counts(rng, threads, posts, long_thread)
            t_group, t_times, t_author, t_last_author, t_deleted = [], [], [], [], []
            for i, n in enumerate(counts):
                if i == 0:  # the long thread: the group's general thread since the beginning
                    group_id, first = 1, start + 86400
                    life = end - first
                else:
                    group_id = rng.randint(1, groups)
                    first = rng.uniform(start, end - 3600)
                    life = min(rng.expovariate(1 / (20 * 86400)), end - first)
                times = [first, *sorted(first + rng.random() * life for _ in range(n - 1))]
                t_group.append(group_id)
                t_times.append(times)
                t_author.append(rng.randint(1, users))
                t_last_author.append(t_author[-1] if n == 1 else rng.randint(1, users))
                t_deleted.append({k for k in range(2, n + 1) if rng.random() < 0.005}
                                 if n > 1 else set())
            # Thread ids follow creation time, like an organically grown table.
            firsts = [times[0] for times in t_times]
            order = sorted(range(threads), key=firsts.__getitem__)
            t_id = [0] * threads
            for rank, i in enumerate(order):
                t_id[i] = rank + 1
            info.long_thread_id = t_id[0]
            first_group = [i for i in range(1, threads) if t_group[i] == 1]
            pinned = set(rng.sample(first_group, min(2, len(first_group))))
            workshops_of = {g: [w["id"] for w in workshop_rows if w["group_id"] == g]
                            for g in range(1, groups + 1)}
            thread_rows = []
            for i in order:
                times, n = t_times[i], counts[i]
                thread_rows.append({
                    "id": t_id[i], "group_id": t_group[i],
                    "workshop_id": rng.choice(workshops_of[t_group[i]])
                    if i and rng.random() < 0.2 else None,
                    "title": "Wątek ogólny: pytania i odpowiedzi między sesjami" if i == 0 else
                    f"{rng.choice(TOPICS)} – {rng.choice(PLACES)}",
                    "author_id": t_author[i], "last_number": n,
                    "reply_count": n - 1 - len(t_deleted[i]),
                    "last_post_at": _aware(times[-1]), "last_author_id": t_last_author[i],
                    "pinned": i in pinned, "locked": False, "created_at": _aware(times[0])})
            for offset in range(0, len(thread_rows), BATCH):
                _insert(conn, Thread.__table__, thread_rows[offset:offset + BATCH])
            titles = {row["id"]: row["title"] for row in thread_rows}
            del thread_rows
            step(f"{threads:,} threads")

            # Read state: the bench user has read about half of the threads, others some.
            read_rows = []
            for i in range(threads):
                n, r = counts[i], rng.random()
                if i == 0 or r < 0.5:
                    read_rows.append({"user_id": 1, "thread_id": t_id[i], "last_read_number": n})
                elif r < 0.7 and n > 1:
                    read_rows.append({"user_id": 1, "thread_id": t_id[i],
                                      "last_read_number": rng.randint(1, n - 1)})
                for reader in range(2, 12):
                    if rng.random() < 0.3:
                        read_rows.append({"user_id": reader, "thread_id": t_id[i],
                                          "last_read_number": n})
            for offset in range(0, len(read_rows), BATCH):
                _insert(conn, ThreadRead.__table__, read_rows[offset:offset + BATCH])
            step(f"{len(read_rows):,} read marks")

            # Posts, in time order (ids grow with time; a thread's posts are spread out).
            fts = _sqlite_fts_tables(conn) if sqlite else []
            for name, triggers in fts:
                for trigger, _sql in triggers:
                    conn.exec_driver_sql(f'DROP TRIGGER "{trigger}"')
                conn.commit()
                log(f"  {name}: {len(triggers)} triggers dropped for the bulk load")
            pg_indexes = _postgres_post_indexes(conn) if not sqlite else []
            for name, _definition in pg_indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
            conn.commit()
            if pg_indexes:
                log(f"  {len(pg_indexes)} post indexes dropped for the bulk load")
            rare_candidates = [(i, k) for i in first_group for k in range(1, counts[i] + 1)]
            rare = set(rng.sample(rare_candidates, min(RARE_POSTS, len(rare_candidates))))
            del rare_candidates
            timeline = sorted((t, i, k + 1) for i in range(threads)
                              for k, t in enumerate(t_times[i]))
            del t_times
            post_table, reaction_table = Post.__table__, Reaction.__table__
            previous_id: dict[int, int] = {}
            rows: list[dict] = []
            reactions: list[dict] = []
            reaction_kinds = ("useful", "agree", "thanks")
            title_fold = cache(lambda title: _sentence_fold(title))
            progress = max(posts // 10, BATCH)
            posts_started = time.perf_counter()
            for post_id, (t, i, number) in enumerate(timeline, start=1):
                body, body_html, folded = _body(rng, (i, number) in rare)
                if number == 1:
                    folded = title_fold(titles[t_id[i]]) + "\n" + folded
                    author = t_author[i]
                elif number == counts[i]:
                    author = t_last_author[i]
                else:
                    author = rng.randint(1, users)
                created = _aware(t)
                deleted = number in t_deleted[i]
                rows.append({
                    "id": post_id, "thread_id": t_id[i], "number": number, "author_id": author,
                    "body": body, "body_html": body_html, "search_text": folded,
                    "reply_to_id": previous_id.get(i) if number > 1 and rng.random() < 0.15
                    else None,
                    "client_token": None, "created_at": created, "edited_at": None,
                    "deleted_at": min(created + timedelta(hours=1), _aware(end))
                    if deleted else None,
                    "hidden_at": None, "hidden_reason": "", "hidden_by_id": None})
                previous_id[i] = post_id
                if not deleted and rng.random() < 0.05:
                    for reader in rng.sample(range(1, users + 1), rng.randint(1, 3)):
                        reactions.append({"post_id": post_id, "user_id": reader,
                                          "kind": rng.choice(reaction_kinds)})
                if len(rows) >= BATCH:
                    _insert(conn, post_table, rows)
                    _insert(conn, reaction_table, reactions)
                    rows, reactions = [], []
                    if post_id % progress < BATCH:
                        elapsed = time.perf_counter() - posts_started
                        log(f"    {post_id:>10,} / {posts:,} posts  {elapsed:6.1f} s")
            _insert(conn, post_table, rows)
            _insert(conn, reaction_table, reactions)
            del timeline, rows
            step(f"{posts:,} posts")

            for name, triggers in fts:
                conn.exec_driver_sql(f"INSERT INTO \"{name}\"(\"{name}\") VALUES ('rebuild')")
                for _trigger, sql in triggers:
                    conn.exec_driver_sql(sql)
                conn.commit()
                step(f"{name} rebuilt, {len(triggers)} triggers recreated")

            for name, definition in pg_indexes:
                conn.exec_driver_sql(definition)
                conn.commit()
                step(f"index {name} recreated")
            extras = _add_extras(conn, rng, groups=groups, users=users, posts=posts,
                                 memberships=membership_rows, workshops_of=workshops_of,
                                 start=start, end=end)
            info.materials, info.chat_messages, info.notifications = extras
            step(f"{extras[0]:,} materials, {extras[1]:,} chat messages, "
                 f"{extras[2]:,} notifications")
            if not sqlite:
                _advance_sequences(conn, [Organisation, User, Group, Membership, Workshop,
                                          Thread, Post, Material, MaterialVersion, ChatMessage,
                                          Notification])
            _verify(conn, info, Thread, Post, ThreadRead)
            step("consistency checks")
            if sqlite:
                if posts <= 100_000:
                    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if problems:
                        raise AssertionError(f"foreign keys broken: {problems[:5]}")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                conn.commit()
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            conn.commit()
            step("finish (checkpoint / ANALYZE)")
    finally:
        engine.dispose()
    info.seconds = round(time.perf_counter() - started, 1)
    info.steps = steps
    log(f"Built in {info.seconds:.1f} s")
    return info


def _add_extras(conn, rng: random.Random, *, groups: int, users: int, posts: int,
                memberships: list[dict], workshops_of: dict[int, list[int]], start: float,
                end: float) -> tuple[int, int, int]:
    """Materials (with versions), chat messages and notifications: enough to fill the first
    page of the materials list, the chat and the bench user's notifications, whatever the
    forum's size. Returns how many of each were inserted."""
    from forum.chat.models import ChatMessage
    from forum.discussions.models import Post, Thread
    from forum.materials.filetypes import DOCX, PDF, PPTX, XLSX
    from forum.materials.models import Material, MaterialKind, MaterialVersion
    from forum.notifications.models import Notification
    from forum.text import fold

    members = {g: [m["user_id"] for m in memberships if m["group_id"] == g]
               for g in range(1, groups + 1)}

    # Materials: MATERIALS_PER_GROUP per group, a fifth with a second version. The stored
    # files do not exist (downloads 404): the list and session pages only show the rows.
    kinds = [k.value for k in MaterialKind if k != MaterialKind.GOOD_PRACTICE]
    file_kinds = (PDF, PDF, DOCX, PPTX, XLSX)
    material_rows, version_rows = [], []
    for g in range(1, groups + 1):
        for _ in range(MATERIALS_PER_GROUP):
            material_id = len(material_rows) + 1
            kind = rng.choice(kinds)
            uploader = rng.choice(members[g])
            created = rng.uniform(start, end - 86400)
            versions = 2 if rng.random() < 0.2 else 1
            times = sorted([created, *(rng.uniform(created, end) for _ in range(versions - 1))])
            for number, t in enumerate(times, start=1):
                file_kind = rng.choice(file_kinds)
                version_rows.append({
                    "id": len(version_rows) + 1, "material_id": material_id, "number": number,
                    "storage_key": f"{rng.getrandbits(256):064x}",
                    "sha256": f"{rng.getrandbits(256):064x}",
                    "size": rng.randint(20_000, 4_000_000), "mime": file_kind.mime,
                    "type_label": file_kind.label,
                    "original_name": f"material-{material_id}-v{number}.{file_kind.extension}",
                    "note": "", "uploaded_by_id": uploader, "created_at": _aware(t)})
            material_rows.append({
                "id": material_id, "group_id": g,
                "workshop_id": rng.choice(workshops_of[g]) if rng.random() < 0.4 else None,
                "title": f"{rng.choice(TOPICS)}: {rng.choice(PLACES)} "
                         f"({'prezentacja' if kind == 'presentation' else 'materiał'})",
                "kind": kind, "description": "", "description_html": "", "language": "pl",
                "uploaded_by_id": uploader,
                "review_until": (_aware(times[-1]) + timedelta(days=14)).date()
                if kind == MaterialKind.TRAINING_FOR_REVIEW else None,
                "deleted_at": None, "version_count": versions, "created_at": _aware(created),
                "updated_at": _aware(times[-1])})
            material_rows[-1]["search_text"] = fold(material_rows[-1]["title"])
    _insert(conn, Material.__table__, material_rows)
    _insert(conn, MaterialVersion.__table__, version_rows)

    # Chat: CHAT_MESSAGES_PER_GROUP messages per group over the last 60 days, ids in time
    # order (as sending gives them); body_html is what render_markdown makes of the body.
    chat_rows = []
    chat_start = max(start, end - 60 * 86400)
    for g in range(1, groups + 1):
        for t in sorted(rng.uniform(chat_start, end) for _ in range(CHAT_MESSAGES_PER_GROUP)):
            body, body_html, folded = _body(rng, rare=False)
            chat_rows.append({"group_id": g, "author_id": rng.choice(members[g]),
                              "kind": "message", "body": body, "body_html": body_html,
                              "search_text": folded,
                              "workshop_id": None, "thread_id": None, "created_at": _aware(t),
                              "removed_at": None, "removed_by_id": None, "edited_at": None,
                              "moderation_note": ""})
    chat_rows.sort(key=lambda row: row["created_at"])
    for number, row in enumerate(chat_rows, start=1):
        row["id"], row["client_id"] = number, f"bench-{number:08d}"
    for offset in range(0, len(chat_rows), BATCH):
        _insert(conn, ChatMessage.__table__, chat_rows[offset:offset + BATCH])

    # Notifications about real posts: replies (and new threads) in threads of the person's
    # groups, by the post's author, at the post's time; all but the newest 20 read.
    wanted = {1: BENCH_NOTIFICATIONS, **{u: OTHER_NOTIFICATIONS for u in range(2, users + 1)}}
    group_of_user = {u: set() for u in range(1, users + 1)}
    for m in memberships:
        group_of_user[m["user_id"]].add(m["group_id"])
    candidates = sorted(rng.sample(range(1, posts + 1), min(posts, 4 * sum(wanted.values()))))
    found = []
    for offset in range(0, len(candidates), 500):
        found += conn.execute(
            sa.select(Post.id, Post.thread_id, Post.number, Post.author_id, Post.created_at,
                      Thread.group_id)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Post.id.in_(candidates[offset:offset + 500]), Post.deleted_at.is_(None))
        ).all()
    conn.commit()  # the reads began a transaction; _insert opens its own
    notification_rows = []
    by_group: dict[int, list] = {}
    for row in found:
        by_group.setdefault(row.group_id, []).append(row)
    for user_id, count in wanted.items():
        pool = [row for g in sorted(group_of_user[user_id]) for row in by_group.get(g, ())]
        chosen = [row for row in rng.sample(pool, min(2 * count, len(pool)))
                  if row.author_id != user_id][:count]
        for row in chosen:
            notification_rows.append({
                "user_id": user_id, "kind": "new_thread" if row.number == 1 else "reply",
                "group_id": row.group_id, "thread_id": row.thread_id, "post_id": row.id,
                "chat_message_id": None, "report_id": None, "actor_id": row.author_id,
                "text": "", "created_at": row.created_at, "read_at": None,
                "emailed_at": row.created_at})
    notification_rows.sort(key=lambda row: (row["created_at"], row["post_id"]))
    unread_left: dict[int, int] = {}
    for number, row in enumerate(reversed(notification_rows)):
        row["id"] = len(notification_rows) - number
        seen = unread_left.get(row["user_id"], 0)
        unread_left[row["user_id"]] = seen + 1
        if seen >= UNREAD_NOTIFICATIONS:
            row["read_at"] = min(row["created_at"] + timedelta(hours=2), _aware(end))
    for offset in range(0, len(notification_rows), BATCH):
        _insert(conn, Notification.__table__, notification_rows[offset:offset + BATCH])
    return len(material_rows), len(chat_rows), len(notification_rows)


def _sentence_fold(text: str) -> str:
    from forum.text import fold

    return fold(text)


def _postgres_post_indexes(conn) -> list[tuple[str, str]]:
    """PostgreSQL: the post table's plain indexes (the search GIN index among them), to be
    dropped for the bulk load and recreated from their own definitions afterwards. Indexes
    behind constraints (primary key, unique) stay."""
    return [tuple(row) for row in conn.exec_driver_sql(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.schemaname = current_schema() AND i.tablename = 'post' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").all()]


def _advance_sequences(conn, models) -> None:
    """PostgreSQL: ids were given explicitly, so move each id sequence past them."""
    for model in models:
        table = conn.dialect.identifier_preparer.format_table(model.__table__)
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 1))")
    conn.commit()


def _verify(conn, info: BuildInfo, Thread, Post, ThreadRead) -> None:
    """Cheap checks that the counters agree with the rows (a wrong build is worse than none)."""
    total = conn.scalar(sa.select(sa.func.count()).select_from(Post))
    if total != info.posts:
        raise AssertionError(f"{total} posts instead of {info.posts}")
    long_count, long_max = conn.execute(sa.select(sa.func.count(), sa.func.max(Post.number))
                                        .where(Post.thread_id == info.long_thread_id)).one()
    if long_count != info.long_thread_posts or long_max != info.long_thread_posts:
        raise AssertionError("the long thread's posts are not numbered 1..N")
    newest = (sa.select(sa.func.max(Post.number)).where(Post.thread_id == Thread.id)
              .scalar_subquery())
    wrong = conn.scalar(sa.select(sa.func.count()).select_from(Thread)
                        .where(Thread.last_number != newest))
    if wrong:
        raise AssertionError(f"{wrong} threads whose last_number is not their newest post")
    unread = conn.scalar(sa.select(sa.func.count()).select_from(Thread).outerjoin(
        ThreadRead, sa.and_(ThreadRead.thread_id == Thread.id, ThreadRead.user_id == 1))
        .where(Thread.group_id == 1,
               Thread.last_number > sa.func.coalesce(ThreadRead.last_read_number, 0)))
    if not unread:
        raise AssertionError("the bench user has no unread threads")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", nargs="?",
                        default=f"sqlite:///{Path(tempfile.gettempdir()) / 'forum-bench.db'}")
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--threads", type=int, default=20_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--long-thread", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", action="store_true", help="empty the database first")
    args = parser.parse_args(argv)
    info = build(args.database_url, groups=args.groups, threads=args.threads, posts=args.posts,
                 long_thread=args.long_thread, seed=args.seed, reset=args.reset)
    print(info)


if __name__ == "__main__":
    sys.exit(main())
