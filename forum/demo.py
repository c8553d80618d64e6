"""The demo data set: three exchange groups of Lublin-region local governments.

Loaded by `flask forum seed-demo` (and `make run`) into an empty database only. Every demo
account has the password DEMO_PASSWORD, printed in the README, so `check_can_seed` refuses
production mode and any database holding accounts of its own: a real installation never loads
this.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from forum.accounts.models import Organisation, OrganisationKind, User
from forum.accounts.services import hash_password
from forum.attendance.models import Certificate, CheckIn, CheckInMethod, Registration
from forum.chat.demo import seed_chat
from forum.demo_files import make_chart_png, make_csv, make_pdf
from forum.discussions import curation
from forum.discussions import services as discussions
from forum.discussions.models import Post
from forum.evaluation.models import (
    EvaluationAnswer,
    EvaluationQuestion,
    EvaluationSubmission,
    QuestionKind,
    StandardQuestion,
)
from forum.extensions import db
from forum.groups.models import Group, GroupKind, Membership, Role
from forum.library import services as library
from forum.materials import services as materials
from forum.materials.models import Material, MaterialKind
from forum.minutes.models import AmendmentState, Minutes, MinutesAmendment, MinutesState
from forum.moderation import reports
from forum.notifications.mentions import handle_for
from forum.pages import agenda
from forum.polls import services as polls
from forum.reviews import services as reviews
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.tournaments import services as tournaments
from forum.workshops.models import Workshop
from forum.workshops.services import group_today

DEMO_PASSWORD = "demo-forum-2026"
ADMIN_EMAIL = "admin@example.org"
MODERATOR_EMAIL = "moderator@example.org"
MEMBER_EMAIL = "member@example.org"
OBSERVER_EMAIL = "expert@example.org"

K = OrganisationKind
ORGANISATIONS = {
    "rural": [
        ("Gmina Jabłonna", K.RURAL_COMMUNE), ("Gmina Niemce", K.RURAL_COMMUNE),
        ("Gmina Konopnica", K.RURAL_COMMUNE), ("Gmina Wólka", K.RURAL_COMMUNE),
        ("Gmina Łęczna", K.URBAN_RURAL_COMMUNE), ("Gmina Kock", K.URBAN_RURAL_COMMUNE),
        ("Gmina Józefów nad Wisłą", K.URBAN_RURAL_COMMUNE),
    ],
    "cities": [
        ("Miasto Lublin", K.CITY), ("Miasto Zamość", K.CITY), ("Miasto Chełm", K.CITY),
        ("Miasto Biała Podlaska", K.CITY), ("Miasto Puławy", K.CITY),
        ("Miasto Świdnik", K.CITY), ("Miasto Kraśnik", K.CITY),
    ],
    "counties": [
        ("Powiat Lubelski", K.COUNTY), ("Powiat Świdnicki", K.COUNTY),
        ("Powiat Puławski", K.COUNTY), ("Powiat Zamojski", K.COUNTY),
        ("Powiat Łęczyński", K.COUNTY), ("Powiat Kraśnicki", K.COUNTY),
    ],
}
PARTNER = ("Ośrodek Rozwoju Edukacji", K.PARTNER)

GROUPS = {
    "rural": ("Gminy wiejskie i miejsko-wiejskie", "gminy", GroupKind.RURAL,
              "Grupa Wymiany Doświadczeń gmin wiejskich i miejsko-wiejskich: jak zarządzać "
              "oświatą w małej gminie, dowozy, małe szkoły, edukacja włączająca."),
    "cities": ("Miasta", "miasta", GroupKind.CITIES,
               "Grupa Wymiany Doświadczeń miast: polityka oświatowa miasta, sieć szkół, "
               "edukacja kulturalna i kreatywność, współpraca z organizacjami."),
    "counties": ("Powiaty", "powiaty", GroupKind.COUNTIES,
                 "Grupa Wymiany Doświadczeń powiatów: szkolnictwo zawodowe, poradnie, "
                 "kształcenie specjalne i doradztwo zawodowe."),
}

FEMALE_NAMES = ["Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Joanna",
                "Magdalena", "Monika", "Elżbieta"]
MALE_NAMES = ["Piotr", "Krzysztof", "Tomasz", "Paweł", "Marcin", "Andrzej", "Michał",
              "Grzegorz", "Jacek", "Wojciech"]
# (masculine, feminine) forms of each surname
SURNAMES = [("Nowak", "Nowak"), ("Kowalski", "Kowalska"), ("Wiśniewski", "Wiśniewska"),
            ("Wójcik", "Wójcik"), ("Kamiński", "Kamińska"), ("Lewandowski", "Lewandowska"),
            ("Zieliński", "Zielińska"), ("Szymański", "Szymańska"), ("Woźniak", "Woźniak"),
            ("Dąbrowski", "Dąbrowska"), ("Kozłowski", "Kozłowska"), ("Jankowski", "Jankowska"),
            ("Mazur", "Mazur"), ("Kwiatkowski", "Kwiatkowska"), ("Krawczyk", "Krawczyk"),
            ("Piotrowski", "Piotrowska"), ("Grabowski", "Grabowska"), ("Pawlak", "Pawlak")]
POSITIONS = ["naczelnik wydziału oświaty", "zastępca naczelnika wydziału edukacji",
             "dyrektor szkoły podstawowej", "inspektor ds. oświaty",
             "dyrektor centrum usług wspólnych", "wicedyrektor liceum"]


THEMES = [
    "Diagnoza potrzeb edukacyjnych w samorządzie",
    "Edukacja włączająca",
    "Zarządzanie usługami edukacyjnymi",
    "Edukacja kulturalna i kreatywność",
    "Współpraca szkół z otoczeniem",
    "Doradztwo zawodowe",
    "Finansowanie zadań oświatowych",
    "Kompetencje kluczowe uczniów",
    "Podsumowanie i plan działań na kolejne lata",
]
# Day 1 of session 1..9 relative to today, per group: one group has a session live now.
SCHEDULES = {
    "cities": -4 * 56,  # session 5 is live today
    "rural": -5 * 56 + 12,  # session 5 was 44 days ago, session 6 in 12 days
    "counties": -2 * 56 + 30,  # sessions 1-2 are past, session 3 in 30 days
}
LUBLIN_AGENDA_DAY1 = """- 9:30 powitanie w Szkole Podstawowej nr 24
- 10:00 wizyta studyjna: lekcje otwarte, rozmowa z dyrekcją
- 13:00 obiad
- 14:00 warsztat: co zobaczyliśmy i co możemy przenieść do siebie"""
LUBLIN_AGENDA_DAY2 = """- 9:00 konferencja w Urzędzie Miasta Lublin
- 10:30 panel: samorząd jako organizator edukacji włączającej
- 12:30 praca w grupach nad materiałem szkoleniowym
- 14:30 podsumowanie i zadania przed kolejną sesją"""


# Every demo session: day 1 10:00–16:00 (6 h), day 2 09:00–14:00 (5 h), in the group's zone.
DAY1_TIMES = (time(10), time(16))
DAY2_TIMES = (time(9), time(14))
# Per group: the concluded session recorded in full (registrations, check-ins, certificates,
# evaluation, approved minutes) and the next one, open for registration.
RECORDED_SESSIONS = {"cities": (4, 6), "rural": (5, 6), "counties": (2, 3)}
# At most this many people per organisation may register for a session of the cities group
# (Miasto Lublin has three demo people there: the third finds its places taken).
CITIES_REGISTRATION_CAP = 2
DEMO_AGENDA_DAY1 = """- 10:00 powitanie i wizyta studyjna w szkole gospodarza
- 12:30 obiad
- 13:30 rozmowa z dyrekcją i samorządem gospodarza
- 15:00 co możemy przenieść do siebie"""
DEMO_AGENDA_DAY2 = """- 9:00 konferencja: doświadczenia samorządów grupy
- 11:00 praca w grupach nad rekomendacjami
- 13:00 podsumowanie i zadania przed kolejną sesją"""
OWN_QUESTION = "Czy temat warto kontynuować na kolejnej sesji?"
CHANGE_ANSWERS = ["Więcej czasu na rozmowy w małych grupach.",
                  "Wcześniej wysłane materiały do przeczytania.",
                  "Krótsza część konferencyjna, dłuższa wizyta studyjna.",
                  "Nic, było bardzo dobrze."]
AMENDMENT = ("Proszę dopisać, że dwie gminy zgłosiły się do pilotażu wspólnych dowozów "
             "przed kolejną sesją.")


class DemoRefused(Exception):
    """The demo data set must not be loaded here; the message says why and what to do."""


def _seats(index: int) -> int:
    """Demo people per organisation: two, one for every third organisation."""
    return 1 if index % 3 == 2 else 2


def demo_emails() -> frozenset[str]:
    """The e-mail address of every account the demo data set creates."""
    people = sum(_seats(index) for items in ORGANISATIONS.values() for index in range(len(items)))
    return frozenset(
        {ADMIN_EMAIL, MODERATOR_EMAIL, MEMBER_EMAIL, OBSERVER_EMAIL}
        | {f"user{n:02d}@example.org" for n in range(1, people + 1)}
    )


def database_is_empty() -> bool:
    return db.session.scalar(db.select(User.id).limit(1)) is None


def _refuse_production() -> None:
    if current_app.config.get("FORUM_ENV") == "production":
        raise DemoRefused(
            "seed-demo refused: FORUM_ENV is production. The demo data set's accounts share a "
            f"password printed in the README ({ADMIN_EMAIL} is an administrator), so it is "
            "never loaded into a real installation. Create the first administrator instead: "
            "flask --app wsgi forum create-admin --email you@example.org --name \"Your Name\" "
            "(README, \"Running in production\"). For a demo, use a separate clone and run "
            "`make run` there without FORUM_ENV=production."
        )


def check_can_seed() -> bool:
    """True when the database is empty (load the demo data set), False when it already holds
    the demo data set and nothing else (nothing to do). Raises DemoRefused in production mode
    and when the database has accounts that are not from the demo data set."""
    _refuse_production()
    others = db.select(User.email).where(User.email.not_in(sorted(demo_emails())))
    count = db.session.scalar(db.select(db.func.count()).select_from(others.subquery()))
    if count:
        example = db.session.scalar(others.order_by(User.id).limit(1))
        raise DemoRefused(
            f"seed-demo refused: the database has {count} account(s) that are not from the "
            f"demo data set (for example {example}). Demo data is loaded only into an empty "
            "database, never next to real accounts. For a demo, use an empty database: leave "
            "FORUM_DATABASE_URL unset so that `make run` uses instance/forum.db, and move an "
            "old instance/forum.db away to start the demo again."
        )
    return database_is_empty()


def seed_demo(seed: int = 2026) -> dict:
    """Create the demo data set; returns the demo logins. Call only on an empty database
    (`check_can_seed`); refuses production mode in any case."""
    _refuse_production()
    rng = random.Random(seed)
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account

    def user(email, name, organisation, position, **extra):
        account = User(email=email, name=name, organisation=organisation, position=position,
                       password_hash=password_hash, **extra)
        db.session.add(account)
        return account

    organisations = {
        key: [Organisation(name=name, kind=kind, region="lubelskie") for name, kind in items]
        for key, items in ORGANISATIONS.items()
    }
    partner = Organisation(name=PARTNER[0], kind=PARTNER[1], region="mazowieckie")
    db.session.add_all([o for items in organisations.values() for o in items] + [partner])

    groups = {
        key: Group(name=name, slug=slug, kind=kind, description=description)
        for key, (name, slug, kind, description) in GROUPS.items()
    }
    db.session.add_all(groups.values())

    admin = user(ADMIN_EMAIL, "Administrator Forum", partner, "administrator", is_admin=True)
    moderator = user(MODERATOR_EMAIL, "Marta Moderatorska", partner, "moderatorka GWD",
                     locale="pl")
    member = user(MEMBER_EMAIL, "Jan Kowalski", organisations["cities"][0],
                  "naczelnik wydziału oświaty", locale="pl")
    expert = user(OBSERVER_EMAIL, "Ewa Ekspertka", partner, "ekspertka ds. edukacji włączającej")

    memberships = [
        Membership(user=moderator, group=groups["cities"], role=Role.MODERATOR),
        Membership(user=moderator, group=groups["rural"], role=Role.MEMBER),
        Membership(user=moderator, group=groups["counties"], role=Role.MEMBER),
        Membership(user=member, group=groups["cities"], role=Role.MEMBER),
        Membership(user=member, group=groups["rural"], role=Role.MEMBER),
    ]
    memberships += [Membership(user=expert, group=g, role=Role.OBSERVER) for g in groups.values()]

    counter = 0
    for key, items in organisations.items():
        group = groups[key]
        for index, organisation in enumerate(items):
            for seat in range(_seats(index)):
                counter += 1
                female = rng.random() < 0.6
                first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
                last = rng.choice(SURNAMES)[1 if female else 0]
                person = user(f"user{counter:02d}@example.org", f"{first} {last}", organisation,
                              rng.choice(POSITIONS))
                # The first person of the rural and counties groups moderates it.
                first_in_group = index == 0 and seat == 0
                role = Role.MODERATOR if key != "cities" and first_in_group else Role.MEMBER
                memberships.append(Membership(user=person, group=group, role=role))
    db.session.add_all(memberships)
    db.session.commit()

    moderators = {
        key: next(m.user for m in memberships if m.group is group and m.role == Role.MODERATOR)
        for key, group in groups.items()
    }
    lublin = organisations["cities"][0]
    for key, group in groups.items():
        _seed_workshops(group, organisations[key], SCHEDULES[key], lublin)
    db.session.commit()
    for key, group in groups.items():
        draft = _seed_materials(moderators[key], group, organisations[key])
        _seed_review(group, moderators[key], draft, memberships)
        people = [m.user for m in memberships if m.group is group and m.role != Role.OBSERVER]
        threads = _seed_threads(rng, group, moderators[key], people)
        _seed_curation(group, moderators[key], threads, member if key == "cities" else None)
        _seed_polls(group, moderators[key], threads, people)
    for key, group in groups.items():
        _seed_attendance(rng, group, moderators[key], memberships, *RECORDED_SESSIONS[key])
    groups["cities"].registration_cap = CITIES_REGISTRATION_CAP
    db.session.commit()
    _seed_library(groups, moderators, memberships)
    _seed_tournament(admin, memberships)
    seed_chat(groups.values(), memberships)  # forum/chat/demo.py
    return {
        "password": DEMO_PASSWORD,
        "logins": [ADMIN_EMAIL, MODERATOR_EMAIL, MEMBER_EMAIL, OBSERVER_EMAIL],
    }


def _seed_workshops(group: Group, hosts: list[Organisation], offset: int,
                    lublin: Organisation) -> None:
    today = group_today(group)
    others = [h for h in hosts if h is not lublin]
    for number, theme in enumerate(THEMES, start=1):
        day1 = today + timedelta(days=offset + (number - 1) * 56)
        host = lublin if group.kind == GroupKind.CITIES and number == 2 else \
            others[(number - 1) % len(others)]
        town = host.name.split(" ", 1)[1]
        workshop = Workshop(
            group=group, number=number, theme=theme, day1=day1, day2=day1 + timedelta(days=1),
            host=host, place=f"{town}, Szkoła Podstawowa nr {number + 1}",
            description=f"Sesja {number} grupy: {theme.lower()}. Dzień 1 to wizyta studyjna, "
                        "dzień 2 to konferencja i praca warsztatowa.",
            day1_starts=DAY1_TIMES[0], day1_ends=DAY1_TIMES[1],
            day2_starts=DAY2_TIMES[0], day2_ends=DAY2_TIMES[1])
        if host is lublin:
            workshop.place = "Lublin, Szkoła Podstawowa nr 24 i Urząd Miasta"
            workshop.agenda_day1, workshop.agenda_day2 = LUBLIN_AGENDA_DAY1, LUBLIN_AGENDA_DAY2
        for field in ("description", "agenda_day1", "agenda_day2"):
            setattr(workshop, f"{field}_html", render_markdown(getattr(workshop, field)))
        db.session.add(workshop)


def _at(group: Group, day, hour: int, minute: int = 0) -> datetime:
    """A moment on a session day, in the group's time zone, as UTC."""
    local = datetime.combine(day, time(hour, minute), ZoneInfo(group.time_zone))
    return local.astimezone(UTC)


def _seed_attendance(rng: random.Random, group: Group, moderator: User, memberships: list,
                     recorded: int, upcoming: int) -> None:
    """Session `recorded` (concluded) in full: most members registered (both days or one),
    checked in per day (the day's code, or ticked off on the list by the moderator),
    certificates for everyone who came, the evaluation (the standard questions and one of
    the group's own) answered by several of them, and approved minutes with one accepted
    amendment. Session `upcoming`: a few registrations (within the group's cap)."""
    members = [m.user for m in memberships if m.group is group and m.role == Role.MEMBER]
    sessions = {w.number: w for w in db.session.scalars(
        db.select(Workshop).where(Workshop.group_id == group.id,
                                  Workshop.number.in_([recorded, upcoming])))}
    workshop = sessions[recorded]
    day_of = {1: workshop.day1, 2: workshop.day2}
    attendees: list[tuple[User, list[int]]] = []
    for index, person in enumerate(members):
        if index % 5 == 4:  # most members, not all
            continue
        days = {3: [1], 5: [2]}.get(index % 7, [1, 2])  # a few come for one day only
        db.session.add(Registration(
            workshop_id=workshop.id, user_id=person.id, organisation_id=person.organisation_id,
            day1=1 in days, day2=2 in days,
            created_at=_at(group, workshop.day1 - timedelta(days=14 + index % 5), 9 + index % 8),
            updated_at=_at(group, workshop.day1 - timedelta(days=14 + index % 5), 9 + index % 8),
            reminded_at=_at(group, workshop.day1 - timedelta(days=2), 8)))
        present = [day for day in days if not (index % 6 == 1 and day == 2)]  # left early
        for day in present:
            by_list = (index + day) % 4 == 0
            db.session.add(CheckIn(
                workshop_id=workshop.id, user_id=person.id, day=day,
                organisation_id=person.organisation_id,
                method=CheckInMethod.LIST if by_list else CheckInMethod.CODE,
                recorded_by_id=moderator.id if by_list else None,
                created_at=_at(group, day_of[day], 9 if day == 2 else 10, rng.randint(0, 25))))
        if present:
            attendees.append((person, present))
    issued = _at(group, workshop.day2 + timedelta(days=3), 12)
    for person, _days in attendees:
        db.session.add(Certificate(
            workshop_id=workshop.id, user_id=person.id, issued_at=issued,
            serial=f"{issued.year}/{workshop.id:05d}/{person.id:06d}"))

    questions = [EvaluationQuestion(workshop_id=workshop.id, position=position, kind=kind,
                                    standard=standard, text=text)
                 for position, (kind, standard, text) in enumerate((
                     (QuestionKind.SCALE, StandardQuestion.USEFULNESS, ""),
                     (QuestionKind.SCALE, StandardQuestion.ORGANISATION, ""),
                     (QuestionKind.TEXT, StandardQuestion.CHANGE, ""),
                     (QuestionKind.SCALE, None, OWN_QUESTION)), start=1)]
    db.session.add_all(questions)
    db.session.flush()
    answering = attendees[:max(3, len(attendees) * 2 // 3)]
    for n, (person, _days) in enumerate(answering):
        db.session.add(EvaluationSubmission(
            workshop_id=workshop.id, user_id=person.id,
            submitted_at=_at(group, workshop.day2 + timedelta(days=n % 3), 18)))
        for question in questions:
            if question.kind == QuestionKind.TEXT:
                db.session.add(EvaluationAnswer(workshop_id=workshop.id,
                                                question_id=question.id,
                                                text=CHANGE_ANSWERS[n % len(CHANGE_ANSWERS)]))
            else:
                db.session.add(EvaluationAnswer(workshop_id=workshop.id,
                                                question_id=question.id,
                                                scale=rng.choice((3, 4, 4, 5, 5))))

    _seed_minutes(group, moderator, workshop, [p for p, _days in attendees])

    # The next session: a few registrations, within the group's cap per organisation.
    cap = CITIES_REGISTRATION_CAP if group.kind == GroupKind.CITIES else None
    taken: dict[int | None, int] = {}
    next_session = sessions[upcoming]
    member_first = sorted(members, key=lambda p: p.email != MEMBER_EMAIL)
    registered = 0
    for index, person in enumerate(member_first):
        if registered == 5:
            break
        if cap is not None and taken.get(person.organisation_id, 0) >= cap:
            continue
        taken[person.organisation_id] = taken.get(person.organisation_id, 0) + 1
        registered += 1
        db.session.add(Registration(
            workshop_id=next_session.id, user_id=person.id,
            organisation_id=person.organisation_id, day1=True, day2=index % 3 != 2,
            created_at=utcnow() - timedelta(days=index + 1),
            updated_at=utcnow() - timedelta(days=index + 1)))
    db.session.commit()


def _seed_minutes(group: Group, moderator: User, workshop: Workshop,
                  attendees: list[User]) -> None:
    """Approved minutes written from the session's agenda, with one accepted amendment."""
    if not workshop.agenda_day1:
        workshop.agenda_day1, workshop.agenda_day2 = DEMO_AGENDA_DAY1, DEMO_AGENDA_DAY2
        for field in ("agenda_day1", "agenda_day2"):
            setattr(workshop, f"{field}_html", render_markdown(getattr(workshop, field)))
    body = (f"## Dzień 1, {workshop.day1.isoformat()}\n\n{workshop.agenda_day1}\n\n"
            f"## Dzień 2, {workshop.day2.isoformat()}\n\n{workshop.agenda_day2}\n\n"
            "## Ustalenia\n\n"
            "- Każdy samorząd przygotuje krótki opis swojej praktyki do następnej sesji.\n"
            "- Moderatorka zbierze pytania do ekspertów na forum grupy.\n"
            f"- {AMENDMENT}\n")
    approved = _at(group, workshop.day2 + timedelta(days=12), 10)
    minutes = Minutes(workshop_id=workshop.id, body=body, body_html=render_markdown(body),
                      state=MinutesState.APPROVED, revision=3,
                      amendments_until=approved - timedelta(days=1), approved_at=approved,
                      approved_by_id=moderator.id,
                      created_at=_at(group, workshop.day2 + timedelta(days=2), 10),
                      updated_at=approved)
    db.session.add(minutes)
    db.session.flush()
    author = next((p for p in attendees if p.id != moderator.id), None)
    if author is not None:
        db.session.add(MinutesAmendment(
            minutes_id=minutes.id, author_id=author.id, text=AMENDMENT,
            text_html=render_markdown(AMENDMENT), state=AmendmentState.ACCEPTED,
            created_at=_at(group, workshop.day2 + timedelta(days=5), 14),
            decided_at=_at(group, workshop.day2 + timedelta(days=8), 9),
            decided_by_id=moderator.id))


def _seed_materials(moderator: User, group: Group, organisations: list[Organisation]):
    first = organisations[0]

    def share(title, kind, number, name=None, data=None, practice=None, description=""):
        upload = materials.Upload(io.BytesIO(data), name) if data is not None else None
        return materials.share_material(
            moderator, group,
            materials.MaterialInput(title=title, kind=kind, description=description,
                                    language="pl", workshop_number=number),
            upload, practice)

    share("Raport z diagnozy potrzeb edukacyjnych", MaterialKind.DIAGNOSIS_REPORT, 1,
          "Raport z diagnozy potrzeb.pdf",
          make_pdf(f"Diagnoza potrzeb – {group.name}", [
              "Wnioski z ankiet przeprowadzonych w samorządach grupy.",
              "1. Potrzeba wsparcia szkół w edukacji włączającej.",
              "2. Niedobór specjalistów: psychologów i pedagogów specjalnych.",
              "3. Zainteresowanie współpracą z instytucjami kultury."]),
          description="Zestawienie wyników diagnozy przygotowane przed **pierwszą sesją**.")
    share("Dane o sieci szkół", MaterialKind.THEMATIC_ANALYSIS, 1, "sieć szkół.csv",
          make_csv([["samorząd", "szkoły", "uczniowie"], [first.name, "12", "2140"],
                    [organisations[1].name, "8", "1320"]]))
    share("Prezentacja: edukacja włączająca w liczbach", MaterialKind.PRESENTATION, 2,
          "wykres.png", make_chart_png([12, 18, 25, 31]))
    draft = share("Materiał szkoleniowy do opiniowania: zarządzanie usługami edukacyjnymi",
          MaterialKind.TRAINING_FOR_REVIEW, 3, "material-szkoleniowy.pdf",
          make_pdf("Zarządzanie usługami edukacyjnymi", [
              "Wersja robocza do opinii członków grupy.",
              "Rozdział 1. Standardy usług edukacyjnych w samorządzie."]))
    materials.set_review(moderator, draft, group_today(group) + timedelta(days=14))
    share("Dowozy uczniów organizowane z lokalnym przewoźnikiem", MaterialKind.GOOD_PRACTICE,
          2, practice=materials.GoodPracticeInput(
              problem="Uczniowie z odległych sołectw spędzali w autobusie ponad godzinę.",
              actions="Gmina przeprojektowała trasy z przewoźnikiem i **rodzicami**; "
                      "dodano kurs popołudniowy po zajęciach dodatkowych.",
              results="Czas dojazdu skrócił się średnio o 20 minut; więcej uczniów zostaje "
                      "na zajęciach pozalekcyjnych.",
              costs="Około 60 tys. zł rocznie więcej niż poprzednia umowa.",
              contact_organisation_id=first.id))
    share("Szkolny klub kultury prowadzony z biblioteką", MaterialKind.GOOD_PRACTICE, 4,
          practice=materials.GoodPracticeInput(
              problem="Mało zajęć kulturalnych po lekcjach, szczególnie w małych szkołach.",
              actions="Biblioteka publiczna prowadzi w szkole klub: teatr, film, spotkania "
                      "z autorami.",
              results="Udział 80 uczniów w pierwszym roku.",
              costs="Czas pracy dwóch bibliotekarek, 5 tys. zł na materiały.",
              contact_organisation_id=organisations[1].id))
    return draft


REVIEW_SECTIONS = """# Standardy usług edukacyjnych
Co samorząd powinien zapewnić każdej szkole: kadra, dostępność, dowozy.

# Planowanie sieci szkół
Jak łączyć analizę demograficzną z rozmowami z rodzicami.

# Współpraca z otoczeniem
Biblioteki, domy kultury i organizacje pozarządowe jako partnerzy szkół.
"""


def _seed_library(groups: dict[str, Group], moderators: dict[str, User],
                  memberships: list) -> None:
    """Three published practices (both of the cities, the first of the rural group), two
    waiting for publication, an adoption and a question to a contact person."""
    plan = {"cities": (True, True), "rural": (True, False), "counties": (False, None)}
    themes = {"Dowozy": ("transport, dowozy uczniów", "lubelskie"),
              "Szkolny": ("kultura, zajęcia pozalekcyjne", "lubelskie")}
    published = []
    for key, decisions in plan.items():
        group, moderator = groups[key], moderators[key]
        practices = db.session.scalars(
            db.select(Material).where(Material.group_id == group.id,
                                      Material.kind == MaterialKind.GOOD_PRACTICE)
            .order_by(Material.id)).all()
        for material, publish in zip(practices, decisions, strict=False):
            if publish is None:
                continue
            organisation = material.good_practice.contact_organisation
            theme, region = themes[material.title.split()[0]]
            library.propose(moderator, material, library.ListingInput(
                themes=theme, regions=region,
                lg_types=[organisation.kind] if organisation else [],
                contact_user_id=moderator.id))
            if publish:
                library.publish(moderator, material)
                published.append(material)
    rural_people = [m.user for m in memberships
                    if m.group is groups["rural"] and m.role == Role.MEMBER
                    and m.user.organisation_id is not None
                    and m.user.id not in {u.id for u in moderators.values()}
                    and m.user.email != MEMBER_EMAIL]
    if published and rural_people:
        library.record_adoption(rural_people[0], published[0],
                                "Od września dwa kursy popołudniowe, jak w Lublinie.")
        library.contact(rural_people[0], published[1],
                        "Jak rozliczacie czas pracy bibliotekarek w szkole?")


def _seed_tournament(admin: User, memberships: list) -> None:
    """A running tournament over the published practices: round 1, a few organisations
    have voted (ranked)."""
    tournament = tournaments.open_tournament(
        admin, title="Turniej dobrych praktyk 2027", kind="ranked", points=0,
        description="Wybieramy praktyki, które pokażemy na konferencji podsumowującej.",
        closes_at=utcnow() + timedelta(days=10))
    poll = tournaments.current_round(tournament).poll
    options = [o.id for o in poll.options]
    voted: set[int] = set()
    for membership in memberships:
        person = membership.user
        if (membership.role == Role.OBSERVER or person.organisation_id is None
                or person.organisation_id in voted or person.is_admin):
            continue
        voted.add(person.organisation_id)
        order = options[len(voted) % len(options):] + options[:len(voted) % len(options)]
        tournaments.vote(person, tournament, {o: rank for rank, o in enumerate(order, 1)})
        if len(voted) == 5:
            break


def _seed_polls(group: Group, moderator: User, threads: list, people: list[User]) -> None:
    """An open proposal (per organisation, a few organisations have voted) in the thread
    about the training material, and a closed ranked poll about the next session's theme."""
    now = utcnow()
    voters = [p for p in people if p.id != moderator.id]
    proposal = polls.start_poll(moderator, group, polls.PollInput(
        kind="consent", question="Rekomendujemy ośrodkowi szkoleniowemu dodanie studium "
        "przypadku małej gminy do modułu 1", details="Propozycja z dyskusji o materiale.",
        closes_at=now + timedelta(days=6), per_organisation=True), thread=threads[2])
    by_code = {o.code: o.id for o in proposal.options}
    voted: set[int] = set()
    for person, (code, reason) in zip(
            voters, [("agree", "Tego brakowało."), ("agree", ""),
                     ("abstain", "Nie mamy zdania.")] * 2, strict=False):
        if person.organisation_id in voted or len(voted) == 3:
            continue
        voted.add(person.organisation_id)
        polls.cast_ballot(person, group, proposal, {by_code[code]: 1}, reason=reason)
    ranked = polls.start_poll(moderator, group, polls.PollInput(
        kind="ranked", question="Temat przewodni następnej sesji",
        options="Finansowanie oświaty\nEdukacja włączająca\nTransport uczniów\nCyfryzacja szkół",
        closes_at=now + timedelta(hours=2)), thread=threads[3])
    orders = ([0, 1, 2], [1, 0], [2, 1, 0], [1, 2], [0, 2, 1], [3, 1], [1, 3, 0])
    for person, order in zip(voters, orders, strict=False):
        polls.cast_ballot(person, group, ranked, {ranked.options[i].id: rank
                                                  for rank, i in enumerate(order, start=1)})
    polls.close_poll(moderator, group, ranked)


def _seed_review(group: Group, moderator: User, draft, memberships: list) -> None:
    """One open review in each group: the first organisation answered, the second has a
    draft, the others have not answered."""
    review = reviews.open_review(
        moderator, group, draft, question="Czy ten moduł odpowiada potrzebom samorządów "
        "naszej grupy?", deadline=group_today(group) + timedelta(days=10),
        manual_sections=REVIEW_SECTIONS)
    answering = {}
    for membership in memberships:
        person = membership.user
        if (membership.group is group and membership.role != Role.OBSERVER
                and person.organisation_id in {a.organisation_id for a in review.asked}):
            answering.setdefault(person.organisation_id, person)
    stances = (("agree", "Dobry przegląd."), ("agree_with_changes", "Brakuje przykładów z "
               "małych gmin."), ("disagree", "Za mało o finansowaniu."))
    for index, person in enumerate(list(answering.values())[:2]):
        reviews.save_answer(person, group, review, [
            reviews.OpinionInput(section.id, *stances[(section.number + index) % 3])
            for section in review.sections], revision=0, submit=index == 0)


THREADS = [
    (1, "Jak przeprowadziliście diagnozę potrzeb?",
     "Po pierwszej sesji obiecaliśmy sobie porównać metody diagnozy. U nas ankieta trafiła "
     "do dyrektorów i rodziców. Jak było u Was?",
     ["U nas także ankieta, ale dodaliśmy wywiady z pedagogami szkolnymi.",
      "Czy możecie udostępnić kwestionariusz? Chętnie go przetestujemy.",
      "Wrzucę go do materiałów sesji 1 w przyszłym tygodniu."]),
    (2, "Edukacja włączająca: asystenci nauczyciela",
     "Na sesji w Lublinie rozmawialiśmy o asystentach nauczyciela. Kto finansuje ich z "
     "subwencji, a kto z budżetu własnego?",
     ["My z subwencji, ale tylko w dwóch szkołach.",
      "Budżet własny, bo subwencja nie wystarcza na specjalistów."]),
    (3, "Uwagi do materiału szkoleniowego",
     "Proszę o opinie do wersji roboczej materiału o zarządzaniu usługami edukacyjnymi.",
     ["Rozdział 1 jest dobry, brakuje przykładów z małych gmin.",
      "Zgadzam się, warto dodać studium przypadku."]),
    (5, "Pytania na dzisiejszy panel",
     "Zbieramy pytania do panelu drugiego dnia sesji. Piszcie tutaj!",
     ["Jak mierzyć efekty współpracy szkół z otoczeniem?"]),
]


def _seed_threads(rng: random.Random, group: Group, moderator: User,
                  people: list[User]) -> list:
    others = [p for p in people if p.id != moderator.id]
    threads = []
    for number, title, body, replies in THREADS:
        author = moderator if number in (3, 5) else rng.choice(others)
        thread = discussions.start_thread(author, group, title=title, body=body,
                                          workshop_number=number)
        threads.append(thread)
        previous = None
        for index, text in enumerate(replies):
            writer = rng.choice([p for p in others if p.id != author.id])
            if index == len(replies) - 1:
                text = f"@{handle_for(author.name)} {text}"
            previous = discussions.reply(writer, thread, text,
                                         reply_to_id=previous.id if previous and index % 2
                                         else None)
    pinned = discussions.start_thread(
        moderator, group, title="Zasady forum i kalendarz sesji",
        body="Witamy na forum grupy! Tu kontynuujemy rozmowy z sesji. Kalendarz sesji "
             "dodacie do swojego kalendarza ze strony **Sesje**.")
    discussions.set_pinned(moderator, pinned, True)
    return threads


def _seed_curation(group: Group, moderator: User, threads: list, reporter: User | None) -> None:
    """What the moderation desk and the agenda builder look like with some work done."""
    first, second, third = threads[0], threads[1], threads[2]
    last_reply = discussions.post_id_at(first, first.last_number)
    curation.set_conclusion(moderator, first, db.session.get(Post, last_reply))
    curation.close_thread(
        moderator, second,
        "Podsumowanie: każda gmina przygotuje krótki opis swojej metody do następnej sesji.")
    agenda.mark_for_next_workshop(moderator, third)
    if reporter is not None:  # one open report in the demo moderator's group
        post = db.session.scalar(db.select(Post).where(
            Post.thread_id == third.id, Post.number == 2))
        if post is not None and post.author_id != reporter.id:
            reports.report_post(reporter, post, "personal_data",
                                "W tym wpisie jest prywatny numer telefonu.")
