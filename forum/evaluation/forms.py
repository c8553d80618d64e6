"""The evaluation's forms as plain HTML fields (a row per question), read here into the
services' inputs. The CSRF token is checked with `EmptyForm`."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from forum.evaluation import services
from forum.evaluation.models import QuestionKind


def _position(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 4 else None


def question_rows(form: MultiDict) -> list[services.QuestionInput]:
    """The moderator's question form: the standard questions (`include-<name>`,
    `position-<name>`), the own ones (`text-<id>`, `kind-<id>`, `position-<id>`,
    `remove-<id>`) and one new question (`text-new`, `kind-new`, `position-new`)."""
    rows = []
    for standard in services.STANDARD:
        rows.append(services.QuestionInput(
            standard=str(standard), include=form.get(f"include-{standard}") == "1",
            position=_position(form.get(f"position-{standard}"))))
    for name in form:
        if name.startswith("text-") and name[5:].isdigit():
            own_id = int(name[5:])
            rows.append(services.QuestionInput(
                id=own_id, text=form.get(name, ""),
                kind=form.get(f"kind-{own_id}", QuestionKind.SCALE),
                position=_position(form.get(f"position-{own_id}")),
                include=form.get(f"remove-{own_id}") != "1"))
    rows.append(services.QuestionInput(
        text=form.get("text-new", ""), kind=form.get("kind-new", QuestionKind.SCALE),
        position=_position(form.get("position-new"))))
    return rows


def editor_rows(questions: list[services.Question], typed: MultiDict | None = None) -> dict:
    """What the question form shows: the current choice, or what was typed (after an error)."""
    current = {q.standard: q for q in questions if q.standard}
    own = [q for q in questions if not q.standard]
    standard = []
    for position, name in enumerate(services.STANDARD, start=1):
        q = current.get(str(name))
        if typed is not None:
            standard.append({"name": str(name), "text": services.STANDARD[name][1],
                             "kind": services.STANDARD[name][0],
                             "include": typed.get(f"include-{name}") == "1",
                             "position": typed.get(f"position-{name}", "")})
        else:
            standard.append({"name": str(name), "text": services.STANDARD[name][1],
                             "kind": services.STANDARD[name][0],
                             "include": q is not None,
                             "position": q.position if q else position})
    own_rows = []
    for q in own:
        if typed is not None:
            own_rows.append({"id": q.id, "text": typed.get(f"text-{q.id}", q.own_text),
                             "kind": typed.get(f"kind-{q.id}", q.kind),
                             "position": typed.get(f"position-{q.id}", ""),
                             "remove": typed.get(f"remove-{q.id}") == "1"})
        else:
            own_rows.append({"id": q.id, "text": q.own_text, "kind": q.kind,
                             "position": q.position, "remove": False})
    new = {"text": typed.get("text-new", "") if typed else "",
           "kind": typed.get("kind-new", QuestionKind.SCALE) if typed else QuestionKind.SCALE,
           "position": typed.get("position-new", "") if typed else ""}
    return {"standard": standard, "own": own_rows, "new": new}


def typed_answers(form: MultiDict, questions: list[services.Question]) -> dict[str, str]:
    return {q.key: form.get(f"answer-{q.key}", "") for q in questions}
