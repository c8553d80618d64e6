"""A small line chart written as SVG on the server (no JavaScript, no chart library): the
evaluation's averages per session. Every text is escaped; each series has its own colour, line
pattern and marker shape, so it reads without colour too; a missing value is a gap in the line.
The page shows the same figures in a table next to it for screen readers."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 460, 270
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 14, 70
FONT = 15  # user units: about 12 px on a phone, 18 px at the widest
# Dark enough for 4.5:1 on white; told apart by dashes and markers as well.
STYLES = (
    {"colour": "#1d4f91", "dash": "", "marker": "circle"},
    {"colour": "#9a3b06", "dash": "8 5", "marker": "square"},
    {"colour": "#2d6a2d", "dash": "2 4", "marker": "triangle"},
    {"colour": "#6b2d8f", "dash": "12 4 3 4", "marker": "diamond"},
)


@dataclass(frozen=True)
class Series:
    label: str
    values: dict[int, float | None]  # x (session number) → value, None or missing: a gap


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _marker(shape: str, x: float, y: float, colour: str, tip: str) -> str:
    tip_el = f"<title>{escape(tip)}</title>"
    if shape == "circle":
        body = f'<circle cx="{_num(x)}" cy="{_num(y)}" r="5"'
    elif shape == "square":
        body = f'<rect x="{_num(x - 5)}" y="{_num(y - 5)}" width="10" height="10"'
    elif shape == "triangle":
        body = (f'<polygon points="{_num(x)},{_num(y - 6)} {_num(x + 6)},{_num(y + 5)} '
                f'{_num(x - 6)},{_num(y + 5)}"')
    else:
        body = (f'<polygon points="{_num(x)},{_num(y - 6)} {_num(x + 6)},{_num(y)} '
                f'{_num(x)},{_num(y + 6)} {_num(x - 6)},{_num(y)}"')
    tag = body.split(" ", 1)[0][1:]
    return (f'{body} fill="{colour}" stroke="#ffffff" stroke-width="1.5" class="chart-point">'
            f"{tip_el}</{tag}>")


def line_chart(title: str, description: str, xs: list[int], series: list[Series], *,
               y_min: int = 1, y_max: int = 5, x_label: str = "", point_tip: str = "{label} "
               "· {x}: {value}") -> Markup:
    """The chart as inline SVG markup. `point_tip` is formatted per point (its own escaping)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(xs), 1)

    def x_of(i: int) -> float:
        return LEFT + step * (i + 0.5)

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - y_min) / (y_max - y_min))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title chart-desc" focusable="false">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        f'stroke="#595959"/>',
    ]
    for value in range(y_min, y_max + 1):  # grid lines and the y axis' numbers
        y = _num(y_of(value))
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y}" y2="{y}" '
                     f'stroke="#d0d0d0" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y}" text-anchor="end" '
                     f'dominant-baseline="middle" font-size="{FONT}" fill="#222222">{value}</text>')
    for i, x in enumerate(xs):
        parts.append(f'<text x="{_num(x_of(i))}" y="{TOP + plot_h + 20}" text-anchor="middle" '
                     f'font-size="{FONT}" fill="#222222">{escape(str(x))}</text>')
    if x_label:
        parts.append(f'<text x="{_num(LEFT + plot_w / 2)}" y="{TOP + plot_h + 40}" '
                     f'text-anchor="middle" font-size="{FONT}" fill="#222222">'
                     f"{escape(x_label)}</text>")
    for n, s in enumerate(series):
        style = STYLES[n % len(STYLES)]
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        parts.append(f'<g class="chart-series" data-series="{n}">')
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, x in enumerate(xs):
            value = s.values.get(x)
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{_num(x_of(i))},{_num(y_of(value))}")
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) > 1:
                parts.append(f'<polyline points="{" ".join(points)}" fill="none" '
                             f'stroke="{style["colour"]}" stroke-width="2.5"{dash}/>')
        for i, x in enumerate(xs):
            value = s.values.get(x)
            if value is not None:
                tip = point_tip.format(label=s.label, x=x, value=f"{value:.2f}")
                parts.append(_marker(style["marker"], x_of(i), y_of(value), style["colour"],
                                     tip))
        parts.append("</g>")
    # The legend under the plot: marker, line pattern and label per series.
    legend_y = HEIGHT - 10
    x = LEFT
    for n, s in enumerate(series):
        style = STYLES[n % len(STYLES)]
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        parts.append(f'<line x1="{x}" x2="{x + 36}" y1="{legend_y}" y2="{legend_y}" '
                     f'stroke="{style["colour"]}" stroke-width="2.5"{dash}/>')
        parts.append(_marker(style["marker"], x + 18, legend_y, style["colour"], s.label))
        parts.append(f'<text x="{x + 44}" y="{legend_y}" dominant-baseline="middle" '
                     f'font-size="{FONT}" fill="#222222">{escape(s.label)}</text>')
        x += 64 + 9 * min(len(s.label), 30)
    parts.append("</svg>")
    return Markup("".join(parts))
