"""The briefing as one self-contained HTML page; every text goes through :func:`html.escape`.

Post titles and texts are untrusted: nothing from the data becomes markup, and only plain http(s)
URLs become links (with ``rel="noopener noreferrer"``). Charts are embedded as PNG data URIs.
"""

from __future__ import annotations

import base64
import html
import re

from briefing.outline import LINK, Heading, Image, Outline, Paragraph, Table

_URL = re.compile(r"https?://\S+")
_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; max-width: 60rem; margin: 2rem auto;
       color: #222; line-height: 1.6; }
.header { text-align: center; color: #c0392b; border-bottom: 2px solid #c0392b; padding-bottom: .3rem; }
h1 { text-align: center; color: #c0392b; } .subtitle { text-align: center; color: #555; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #999; padding: .25rem .4rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } figure { text-align: center; margin: 1rem 0; } img { max-width: 100%; }
"""


def _text(value: str) -> str:
    return html.escape(value).replace("\n", "<br>")


def _cell(value: str, *, link: bool) -> str:
    if not link:
        return _text(value)
    parts = []
    for line in value.split("\n"):
        safe = html.escape(line, quote=True)
        parts.append(
            f'<a href="{safe}" rel="noopener noreferrer">{safe}</a>' if _URL.fullmatch(line) else safe
        )
    return "<br>".join(parts)


def to_html(outline: Outline) -> str:
    """The HTML page of ``outline``."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(outline.title)}</title><style>{_STYLE}</style></head><body>",
        f'<div class="header">{_text(outline.header)}</div>',
        f"<h1>{_text(outline.title)}</h1>",
        f'<p class="subtitle">{_text(outline.subtitle)}</p>',
    ]
    for block in outline.blocks:
        if isinstance(block, Heading):
            level = min(block.level + 1, 6)
            out.append(f"<h{level}>{_text(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{_text(block.text)}</p>")
        elif isinstance(block, Table):
            out.append(f'<table data-name="{html.escape(block.name, quote=True)}"><thead><tr>')
            out.extend(f"<th>{_text(header)}</th>" for header in block.headers)
            out.append("</tr></thead><tbody>")
            for row in block.rows:
                cells = (_cell(v, link=h == LINK) for h, v in zip(block.headers, row, strict=True))
                out.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
            out.append("</tbody></table>")
        elif isinstance(block, Image) and block.png is not None:
            data = base64.b64encode(block.png).decode("ascii")
            alt = html.escape(block.caption, quote=True)
            out.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
                f"<figcaption>{_text(block.caption)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out)
