"""A small document written once and rendered twice: Markdown and self-contained HTML.

The report is a list of blocks (headings, paragraphs, tables, figures). Markdown links
figures to the PNG files beside it; HTML embeds them, so one file can be mailed. Text is
escaped for each format here, so the report's content never needs to be.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str
    strong: bool = False  # the answer: bold, and set apart


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    frame: pd.DataFrame
    note: str | None = None
    folded: str | None = None  # HTML: shown on a click, behind this line (long reference tables)


@dataclass
class Figure:
    """A chart: `png` and `svg` are paths relative to the report's folder."""

    title: str
    caption: str
    png: str
    svg: str


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks: object) -> None:
        self.blocks.extend(blocks)


# --- Markdown ------------------------------------------------------------------------------


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([header, rule, *rows])


def to_markdown(doc: Document) -> str:
    parts = [f"# {doc.title}"]
    for block in doc.blocks:
        if isinstance(block, Heading):
            parts.append("#" * block.level + " " + block.text)
        elif isinstance(block, Paragraph):
            parts.append(f"**{block.text}**" if block.strong else block.text)
        elif isinstance(block, Bullets):
            parts.append("\n".join(f"- {item}" for item in block.items))
        elif isinstance(block, Table):
            parts.append(_md_table(block.frame))
            if block.note:
                parts.append(f"*{block.note}*")
        elif isinstance(block, Figure):
            parts.append(
                f"**{block.title}**\n\n![{block.title}]({block.png})\n\n"
                f"{block.caption} ([SVG]({block.svg}))"
            )
    return "\n\n".join(parts) + "\n"


# --- HTML ----------------------------------------------------------------------------------

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1.2em 0 2em 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.92em; color: #444; max-width: 900px; }
.note { font-size: 0.9em; color: #444; max-width: 900px; }
summary { cursor: pointer; color: #1a4f8a; margin: 0.6em 0; }
.answer { font-size: 1.12em; max-width: 1000px; margin: 0.5em 0; }
h1 { margin-bottom: 0.3em; }
"""


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(doc: Document, folder: Path) -> str:
    """The document as one HTML file; figures are read from `folder` and embedded."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(doc.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(doc.title)}</h1>",
    ]
    for block in doc.blocks:
        if isinstance(block, Heading):
            parts.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph) and block.strong:
            parts.append(f'<p class="answer"><strong>{html.escape(block.text)}</strong></p>')
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Bullets):
            items = "".join(f"<li>{html.escape(item)}</li>" for item in block.items)
            parts.append(f"<ul>{items}</ul>")
        elif isinstance(block, Table) and block.folded:
            parts.append(
                f"<details><summary>{html.escape(block.folded)}</summary>"
                f"{_html_table(block.frame)}</details>"
            )
            if block.note:
                parts.append(f'<p class="note">{html.escape(block.note)}</p>')
        elif isinstance(block, Table):
            parts.append(_html_table(block.frame))
            if block.note:
                parts.append(f'<p class="note">{html.escape(block.note)}</p>')
        elif isinstance(block, Figure):
            data = base64.b64encode((folder / block.png).read_bytes()).decode("ascii")
            parts.append(
                f'<figure id="{html.escape(Path(block.png).stem)}">'
                f"<h3>{html.escape(block.title)}</h3>"
                f'<img src="data:image/png;base64,{data}" alt="{html.escape(block.title)}">'
                f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
            )
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
