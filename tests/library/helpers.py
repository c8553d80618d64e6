from forum.library import services
from forum.materials import services as materials
from tests import factories


def make_practice(people, group, title="Dowóz uczniów na żądanie", **practice):
    fields = {"problem": "Puste autobusy szkolne", "actions": "Busy zamawiane przez SMS",
              "results": "Koszty niższe o 30%", **practice}
    return factories.make_material(people["member"], group, None, title=title,
                                   kind="good_practice",
                                   practice=materials.GoodPracticeInput(**fields))


def published(people, group, title="Dowóz uczniów na żądanie", themes="transport", **fields):
    material = make_practice(people, group, title)
    services.propose(people["member"], material, services.ListingInput(
        themes=themes, lg_types=["rural_commune"], regions="lubelskie",
        contact_user_id=people["member"].id, **fields))
    services.publish(people["moderator"], material)
    return material
