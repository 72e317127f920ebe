"""Small server-rendered SVG charts for the dashboard: no script, no CDN, works offline.

Each chart is built from escaped text only (``format_html``); values are numbers."""

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 560, 180, 28
COLOURS = ("#1f5f8b", "#c2571a", "#3c7d3c", "#7b3f8c")


def _scale(values: Sequence[float]) -> float:
    top = max(values, default=0)
    return top if top > 0 else 1.0


def line_chart(*, label: str, series: dict[str, Sequence[float]]) -> SafeString:
    """One line per named series over the same points, with the highest value marked."""
    top = _scale([v for values in series.values() for v in values])
    paths = []
    for n, (name, values) in enumerate(sorted(series.items())):
        if not values:
            continue
        step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
        points = " ".join(
            f"{PAD + i * step:.1f},{HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD):.1f}"
            for i, v in enumerate(values)
        )
        paths.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2" points="{}">'
                "<title>{}</title></polyline>",
                COLOURS[n % len(COLOURS)],
                points,
                name,
            )
        )
    return _frame(label, top, mark_safe("".join(paths)))  # noqa: S308  (built by format_html)


def bar_chart(*, label: str, bars: Sequence[tuple[str, float]]) -> SafeString:
    """One bar per (name, value)."""
    top = _scale([v for _, v in bars])
    width = (WIDTH - 2 * PAD) / max(len(bars), 1)
    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
        (
            (
                f"{PAD + i * width + 1:.1f}",
                f"{HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD):.1f}",
                f"{max(width - 2, 1):.1f}",
                f"{(v / top) * (HEIGHT - 2 * PAD):.1f}",
                COLOURS[0],
                name,
                f"{v:g}",
            )
            for i, (name, v) in enumerate(bars)
        ),
    )
    return _frame(label, top, rects)


def _frame(label: str, top: float, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>'
        '<text x="2" y="{}" font-size="10" fill="#555">{}</text>{}</svg>',
        label,
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        PAD,
        HEIGHT - PAD,
        WIDTH - PAD,
        HEIGHT - PAD,
        PAD - 8,
        f"{top:g}",
        body,
    )
