"""Write the capability-matrix report set (Markdown, JSON, HTML, JSON Schema) into a directory.

Outputs are deterministic: the same results file (and previous report) gives
byte-identical files. The only time stamp is ``generated_at``, copied from the
results file, so regenerating a report never produces a diff by itself.
"""

from __future__ import annotations

from pathlib import Path

from . import drift, facts_page, html, json_report, markdown, model
from .model import Matrix

MARKDOWN_NAME = "capability-matrix.md"
JSON_NAME = "capability-matrix.json"
HTML_NAME = "capability-matrix.html"
SCHEMA_NAME = "capability-matrix.schema.json"
FACTS_MARKDOWN_NAME = "provider-facts.md"
FACTS_HTML_NAME = "provider-facts.html"


def build(
    results: str | Path | Matrix,
    out_dir: str | Path,
    previous: str | Path | None = None,
) -> list[Path]:
    """Build the report from a results file; with ``previous`` (an older
    ``capability-matrix.json``) add a "Changes since previous report" section.

    ``previous`` is read before anything is written, so it may be the very file this
    build replaces (``--out reports/ --previous reports/capability-matrix.json``).
    Returns the written paths.
    """
    matrix = results if isinstance(results, Matrix) else model.load(results)
    changes = drift.compare(matrix, drift.load_previous(previous)) if previous is not None else None

    out = Path(out_dir)
    (out / "schema").mkdir(parents=True, exist_ok=True)
    outputs = {
        out / MARKDOWN_NAME: markdown.render(matrix, changes),
        out / JSON_NAME: json_report.render(matrix, changes),
        out / HTML_NAME: html.render(matrix, changes),
        out / "schema" / SCHEMA_NAME: schema_text(),
    }
    if matrix.provider_facts:
        outputs[out / FACTS_MARKDOWN_NAME] = facts_page.render_markdown(matrix)
        outputs[out / FACTS_HTML_NAME] = facts_page.render_html(matrix)
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8", newline="\n")
    return list(outputs)


def schema_text() -> str:
    """The JSON Schema for ``capability-matrix.json``, exactly as shipped in the package."""
    from importlib.resources import files

    return files(__package__).joinpath("schema", SCHEMA_NAME).read_text(encoding="utf-8")
