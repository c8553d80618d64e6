"""The demo data set: three exchange groups of Lublin-region local governments.

Loaded by `flask forum seed-demo` (and `make run`) into an empty database only. Every demo
account has the password DEMO_PASSWORD; a real installation never loads this.
"""

from __future__ import annotations

import random

from forum.accounts.models import Organisation, OrganisationKind, User
from forum.accounts.services import hash_password
from forum.extensions import db
from forum.groups.models import Group, GroupKind, Membership, Role

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


def database_is_empty() -> bool:
    return db.session.scalar(db.select(User.id).limit(1)) is None


def seed_demo(seed: int = 2026) -> dict:
    """Create the demo data set; returns the demo logins. Call only on an empty database."""
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

    user(ADMIN_EMAIL, "Administrator Forum", partner, "administrator", is_admin=True)
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
            for seat in range(1 if index % 3 == 2 else 2):
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
    return {
        "password": DEMO_PASSWORD,
        "logins": [ADMIN_EMAIL, MODERATOR_EMAIL, MEMBER_EMAIL, OBSERVER_EMAIL],
    }
