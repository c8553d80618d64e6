"""The review report as a DOCX file (python-docx), in the reader's language."""

from __future__ import annotations

import io

from flask_babel import format_date
from flask_babel import gettext as _

from forum.reviews import services


def docx_report(actor, group, review) -> bytes:
    import docx

    answered, asked = services.response_rate(review)
    by_section = services.opinions_by_section(None, group, review)
    document = docx.Document()
    document.add_heading(_("Review report") + ": " + review.material.title, level=0)
    document.add_paragraph(_("Question:") + " " + review.question)
    document.add_paragraph(_("Deadline: %(date)s", date=format_date(review.deadline, "long")))
    document.add_paragraph(_("Response rate: %(answered)d of %(asked)d organisations.",
                             answered=answered, asked=asked))
    for section in review.sections:
        document.add_heading(f"{section.number}. {section.heading}", level=1)
        opinions = by_section[section.id]
        if not opinions:
            document.add_paragraph(_("No opinion yet."))
            continue
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, label in zip(table.rows[0].cells, (_("Organisation"), _("Stance"),
                                                     _("Comment"), _("Disposition")),
                               strict=True):
            cell.text = label
        for opinion in opinions:
            disposition = opinion.disposition
            comment = opinion.comment
            if opinion.proposed_wording:
                comment += "\n" + _("Proposed wording:") + " " + opinion.proposed_wording
            decided = ""
            if disposition is not None:
                decided = str(services.OUTCOMES[disposition.outcome])
                if disposition.reason:
                    decided += ": " + disposition.reason
            row = table.add_row().cells
            row[0].text = opinion.answer.organisation.name
            row[1].text = str(services.STANCES.get(opinion.stance, "—"))
            row[2].text = comment
            row[3].text = decided or "—"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
