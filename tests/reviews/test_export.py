"""A person's opinions on drafts are part of their personal data export: what they wrote,
their earlier texts a colleague replaced, the answers they submitted and the dispositions
they recorded; a colleague's text in the same answer is not."""

import io
import json
import zipfile

from forum.extensions import db
from forum.privacy import export
from forum.privacy.models import DataExport
from forum.reviews import services
from tests.reviews.helpers import open_review, second_organisation


def _export_json(user) -> dict:
    export.request_export(user, user)
    assert export.build_due_exports().built == 1
    db.session.expire_all()
    item = db.session.scalars(db.select(DataExport).where(DataExport.user_id == user.id)
                              .order_by(DataExport.id.desc())).first()
    with export.open_download(user, item) as stream, \
            zipfile.ZipFile(io.BytesIO(stream.read())) as archive:
        index = archive.read("index.html").decode()
        return json.loads(archive.read("export.json")) | {"_index": index}


def test_the_export_holds_the_persons_opinions_and_not_a_colleagues(people, group):
    second_organisation(group)
    review = open_review(people, group)
    member, moderator = people["member"], people["moderator"]  # same organisation
    first, second = review.sections
    answer = services.save_answer(member, group, review, [
        services.OpinionInput(first.id, "agree_with_changes", "Add rural buses", "Buses: weekly"),
        services.OpinionInput(second.id, "agree", "Fine by us")], revision=0, submit=True)
    answer = services.save_answer(moderator, group, review, [
        services.OpinionInput(first.id, "agree_with_changes", "Add rural buses", "Buses: weekly"),
        services.OpinionInput(second.id, "disagree", "Colleague rewrote this")],
        revision=answer.revision, submit=True)
    opinion = next(o for o in answer.opinions if o.section_id == first.id)
    services.decide(moderator, group, review, opinion.id, "partly", "Monthly buses")

    data = _export_json(member)
    reviews = data["reviews"]
    mine = {o["section"]["number"]: o for o in reviews["opinions"]}
    assert mine[1]["comment"] == "Add rural buses" and mine[1]["proposed_wording"] == \
        "Buses: weekly" and mine[1]["review"]["question"] == "Does it fit rural communes?"
    # Section 2 is now the colleague's text: only the member's replaced words are theirs.
    assert mine[2]["comment"] is None
    assert [v["comment"] for v in mine[2]["earlier_versions"]] == ["Fine by us"]
    assert "Colleague rewrote this" not in json.dumps(data)
    assert [a["organisation"] for a in reviews["answers_submitted"]] == \
        [member.organisation.name]
    assert reviews["dispositions"] == []
    assert "Add rural buses" in data["_index"] and "Fine by us" in data["_index"]

    decided = _export_json(moderator)["reviews"]["dispositions"]
    assert [(d["outcome"], d["reason"]) for d in decided] == [("partly", "Monthly buses")]
