from datetime import timedelta

from forum.reviews import services
from forum.workshops.services import group_today
from tests import factories

DRAFT_MD = b"""Programme of training

Title page.

# 1. Introduction

Why this module.

## 2. Rural communes

Transport and schools.
"""


def second_organisation(group):
    """Another organisation with a member in the group: (organisation, member)."""
    organisation = factories.make_organisation(name="Gmina Łęczna")
    member = factories.make_user(email="leczna@example.org", name="Lena Łęczna",
                                 organisation=organisation)
    factories.add_member(member, group)
    return organisation, member


def open_review(people, group, *, days=7, **kwargs):
    material = factories.make_material(people["moderator"], group, DRAFT_MD, "program.md",
                                       title="Program szkoleń", kind="training_for_review")
    return services.open_review(
        people["moderator"], group, material, question="Does it fit rural communes?",
        deadline=group_today(group) + timedelta(days=days), **kwargs)
