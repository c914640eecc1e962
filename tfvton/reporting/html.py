"""A self-contained HTML report (images referenced by relative path, no scripts, no external assets)."""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

__all__ = ["Report"]

_STYLE = """
body { font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; }
tr.best td { font-weight: bold; }
img { max-width: 100%; image-rendering: pixelated; border: 1px solid #eee; }
.note { color: #555; font-size: 0.92em; } code { background: #f4f4f4; padding: 0 3px; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
.ok { color: #070; font-weight: bold; } .bad { color: #b00; font-weight: bold; }
"""


class Report:
    """Collects sections and writes `report.html` in `out_dir` (images must live under it).

    Example:
        >>> report = Report("runs/demo", "tfvton demo")
        >>> report.paragraph("Hello")
        >>> report.image("grids/test.png", "test pairs")
        >>> report.write()
    """

    def __init__(self, out_dir, title: str):
        self.out_dir = Path(out_dir)
        self.title = title
        self.parts: List[str] = []

    def _rel(self, path) -> str:
        path = Path(path)
        try:
            return os.path.relpath(path.resolve(), self.out_dir.resolve())
        except ValueError:  # another drive (Windows)
            return str(path)

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, css: str = "", raw: bool = False) -> None:
        body = text if raw else html.escape(text)
        self.parts.append(f'<p class="{css}">{body}</p>' if css else f"<p>{body}</p>")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]], highlight: Optional[int] = None) -> None:
        out = ["<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"]
        for i, row in enumerate(rows):
            css = ' class="best"' if highlight == i else ""
            out.append(f"<tr{css}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
        out.append("</table>")
        self.parts.append("".join(out))

    def image(self, path, caption: str = "") -> None:
        rel = html.escape(self._rel(path))
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.parts.append(f'<figure><a href="{rel}"><img src="{rel}" alt="{html.escape(caption)}"></a>{cap}</figure>')

    def links(self, items: Sequence[Tuple[str, str]]) -> None:
        """A list of (label, path) with paths shown in full and linked relatively when under out_dir."""
        out = ["<ul>"]
        for label, path in items:
            rel = html.escape(self._rel(path))
            out.append(f'<li>{html.escape(label)}: <a href="{rel}"><code>{html.escape(str(path))}</code></a></li>')
        out.append("</ul>")
        self.parts.append("".join(out))

    def write(self, name: str = "report.html") -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / name
        body = "\n".join(self.parts)
        path.write_text(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
                        f"<body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n", encoding="utf-8")
        return path
