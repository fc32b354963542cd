"""HTML reports: Jinja2 templates (``stats/templates``, autoescaped) with Altair charts.

The reports work offline: the Vega, Vega-Lite and Vega-Embed JavaScript is inlined once per
page from ``vl_convert.javascript_bundle()`` (the bundle vl-convert ships; no CDN), and each
chart's Vega-Lite spec is embedded with ``tojson`` (which escapes ``<``, ``>``, ``&``, so data
cannot close the script element).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import altair as alt
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

__all__ = ["bar_chart", "render"]


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("securecomm.stats", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,  # a misspelt field is an error, not an empty cell
    )


@lru_cache(maxsize=1)
def vega_javascript() -> Markup:
    import vl_convert as vlc

    # the Vega-Lite version of Altair's specs (v6.4.1 -> "6.4") when vl-convert bundles it
    wanted = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    version = wanted if wanted in vlc.get_vegalite_versions() else None
    js = vlc.javascript_bundle(vl_version=version)
    # the bundle is inlined in a <script> element: no "</script" may appear in it
    return Markup(js.replace("</script", "<\\/script"))


def bar_chart(
    rows: Sequence[dict[str, Any]],
    *,
    x: str,
    y: str,
    color: str | None = None,
    title: str = "",
    y_title: str = "number of bookings",
) -> dict[str, Any]:
    """A grouped bar chart as a Vega-Lite spec with its data inline; the value axis is labelled
    with its unit and uses thousands separators."""
    frame = pd.DataFrame(list(rows))
    chart = alt.Chart(frame, title=title).mark_bar()
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:N", sort=None),
        "y": alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=",d")),
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N")
        enc["xOffset"] = alt.XOffset(f"{color}:N")
    return chart.encode(**enc, tooltip=list(frame.columns)).to_dict()


def render(template: str, *, title: str, subtitle: str = "", charts=(), **context: Any) -> str:
    """Render ``template`` (a file of ``stats/templates``); charts: [{title, spec}]."""
    charts = list(charts)
    return (
        _env()
        .get_template(template)
        .render(
            title=title,
            subtitle=subtitle,
            charts=charts,
            vega_js=vega_javascript() if charts else "",
            generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **context,
        )
    )
