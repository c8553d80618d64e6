"""The server-side SVG chart: valid XML, a point per value, gaps, escaped text."""

import xml.etree.ElementTree as ET

from forum.evaluation.chart import Series, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_one_point_per_session_with_answers_and_gaps_break_the_line():
    svg = _parse(line_chart("Ocena", "Średnie", list(range(1, 10)), [
        Series("Przydatność", {1: 4.0, 2: 4.5, 4: 3.0, 5: 3.5, 6: None}),
        Series("Organizacja", {3: 5.0})]))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Ocena" and svg.find(f"{SVG}desc").text == "Średnie"
    first, second = svg.findall(f"{SVG}g")
    assert len(first.findall(f"{SVG}circle")) == 4  # sessions 1, 2, 4, 5
    assert len(first.findall(f"{SVG}polyline")) == 2  # 1–2 and 4–5: session 3 is a gap
    assert len(second.findall(f"{SVG}rect")) == 1 and not second.findall(f"{SVG}polyline")
    tips = [t.text for t in first.iter(f"{SVG}title")]
    assert "Przydatność · 4: 3.00" in tips


def test_text_is_escaped():
    own = 'Czy <script>alert("x")</script> & "polecasz"?'
    markup = str(line_chart(own, own, [1, 2], [Series(own, {1: 2.0})],
                            x_label="<b>Sesja</b>"))
    assert "<script>" not in markup and "<b>" not in markup
    svg = _parse(markup)
    assert svg.find(f"{SVG}title").text == own
    assert own in [t.text for t in svg.iter(f"{SVG}text")]
    assert "<b>Sesja</b>" in [t.text for t in svg.iter(f"{SVG}text")]


def test_no_values_is_still_a_chart():
    svg = _parse(line_chart("Pusto", "Brak", list(range(1, 10)), [Series("A", {})]))
    assert not svg.findall(f".//{SVG}polyline")
    assert [t.text for t in svg.iter(f"{SVG}text")][:5] == ["1", "2", "3", "4", "5"]
