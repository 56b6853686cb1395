"""Sphinx glue for the book: what ``_config.yml`` cannot say in YAML.

* ``nitpick_ignore`` and ``nitpick_ignore_regex`` arrive from YAML as lists of lists; Sphinx compares
  ``(type, target)`` tuples against them, so they are converted once the configuration is read.
* Bibliography entries are written as ARIA list items (see ``_visit_citation``), and a collapsed code
  cell's summary is named by its visible text (see ``_visit_hidden_cell``).
* The ``actlib-registry`` directive writes one ``autofunction`` entry per activation in
  ``actlib.ACTIVATIONS`` (and one for its derivative or vector-Jacobian product), and ``actlib-others``
  one entry for every other name in ``actlib.__all__``, so the API page follows the package without
  being edited.
* The ``claims-audit`` directive writes the claims audit from ``book/claims.yml``: the verdict words
  with their meanings, then one row per claim pasting the verdict and the deciding number that the
  deciding chapter glued under ``claim-<n>-verdict`` and ``claim-<n>-number``, and its scope (glued as
  ``claim-<n>-scope`` by a chapter that trained networks for it, else written in the file), then the
  write-ups' own words: each claim's Chinese quotation, marked with its language, its translation and
  the write-up it comes from. A claim that comes from the wider literature instead (papers,
  documentation, issue trackers) carries ``cited`` (keys of ``book/references.bib``) and ``where`` (a
  sentence saying where readers meet it) in place of the quotation; those are listed with their
  citations after the quotations. Once every chapter has run, a check warns (and so fails the strict
  build) if a claim lacks a key, a scope, a quotation or a citation, or its verdict is not one of the
  allowed words.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.writers.html5 import HTML5Translator

LOGGER = logging.getLogger(__name__)


def _pairs_to_tuples(app: Sphinx, config: Config) -> None:
    for name in ("nitpick_ignore", "nitpick_ignore_regex"):
        value = getattr(config, name)
        config[name] = {tuple(pair) for pair in value}
    overrides = config["nb_mime_priority_overrides"]
    config["nb_mime_priority_overrides"] = [tuple(item) for item in overrides]


def _registry() -> dict[str, Any]:
    import actlib

    return dict(actlib.ACTIVATIONS)


def _companions(function: Any) -> list[str]:
    """What is documented under an activation: its derivative, or a vector function's vjp and jacobian."""
    return [name for name in ("derivative", "vjp", "jacobian") if callable(getattr(function, name, None))]


def registry_sections() -> list[tuple[str, list[str]]]:
    """(name, reStructuredText lines) of the API page's section of each registered activation, in registry
    order: the function, its companions and the module that defines it."""
    sections = []
    for name, function in _registry().items():
        lines = [".. currentmodule:: actlib", "", f".. autofunction:: {name}", ""]
        for companion in _companions(function):
            lines += [f".. autofunction:: actlib::{name}.{companion}", ""]
        info = function.info
        lines += [f"Defined in ``{info.module}``; presented in the chapter :doc:`{info.book.chapter}`.", ""]
        sections.append((name, lines))
    return sections


class ActlibRegistry(SphinxDirective):
    """Document every registered activation, in registry order, under one section each."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        sections: list[nodes.Node] = []
        for name, lines in registry_sections():
            section = nodes.section(ids=[nodes.make_id(f"api-{name}")], names=[f"api-{name}"])
            section += nodes.title("", "", nodes.literal(name, name))
            self.state.nested_parse(StringList(lines, source="actlib.ACTIVATIONS"), 0, section)
            sections.append(section)
        return sections


def _attribute_comments(package: Any) -> dict[str, list[str]]:
    """The ``#:`` comments above module-level names in the package and its modules, by name."""
    import pkgutil

    from sphinx.errors import PycodeError
    from sphinx.pycode import ModuleAnalyzer

    comments: dict[str, list[str]] = {}
    modules = [package.__name__] + [
        f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)
    ]
    for module in modules:
        try:
            found = ModuleAnalyzer.for_module(module).find_attr_docs()
        except PycodeError:
            continue
        for (scope, name), lines in found.items():
            if scope == "":
                comments.setdefault(name, [line for line in lines if line.strip()])
    return comments


class ActlibOthers(SphinxDirective):
    """Document the rest of ``actlib.__all__``: helpers, constants and the registry's record types."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        import actlib

        registry = _registry()
        comments = _attribute_comments(actlib)
        lines: list[str] = [".. currentmodule:: actlib", ""]
        for name in actlib.__all__:
            if name in registry:
                continue
            value = getattr(actlib, name)
            if isinstance(value, type):
                lines += [f".. autoclass:: {name}", "   :no-members:", ""]
            elif callable(value):
                lines += [f".. autofunction:: {name}", ""]
            else:
                # Written out rather than autodata: the values are read from the package itself and
                # their description is the ``#:`` comment where they are defined, as plain text.
                lines += [f".. py:data:: {name}"]
                if isinstance(value, (int, float, str, tuple)):
                    lines += [f"   :value: {value!r}"]
                lines += [""] + [f"   {line}" for line in comments.get(name, ["Exported by ``actlib``."])]
                lines += [""]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="actlib.__all__"), 0, container)
        return list(container.children)


# --- the claims audit ---------------------------------------------------------------------------

CLAIMS_FILE = "book/claims.yml"
AUDIT_DOCNAME = "book/claims"


def _claims_table(srcdir: str | Path) -> dict[str, Any]:
    return yaml.safe_load((Path(srcdir) / CLAIMS_FILE).read_text(encoding="utf-8"))


def _quoted(table_of_truth: dict[str, Any]) -> list[dict[str, Any]]:
    """The claims that quote a write-up (the others cite the wider literature)."""
    return [claim for claim in table_of_truth["claims"] if "cited" not in claim]


def _glued(env: BuildEnvironment, docname: str) -> dict[str, Any]:
    """The glue data a chapter stored when it ran (MyST-NB keeps one JSON file per document)."""
    from myst_nb.ext.glue.crossref import read_glue_cache

    return read_glue_cache(env.mystnb_config.output_folder, docname)  # type: ignore[attr-defined]


def _glued_text(env: BuildEnvironment, docname: str, key: str) -> str | None:
    import ast

    entry = _glued(env, docname).get(key)
    if entry is None or "text/plain" not in entry.get("data", {}):
        return None
    text = entry["data"]["text/plain"]
    try:
        return str(ast.literal_eval(text))
    except (SyntaxError, ValueError):
        return text


class claims_summary(nodes.General, nodes.Element):  # docutils names its node classes in lower case
    """Placeholder for the sentence counting the verdicts, filled once every chapter has run."""


class ClaimsAudit(SphinxDirective):
    """The audit: the verdict words, one row per claim of ``book/claims.yml``, and the write-ups' words."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        table_of_truth = _claims_table(self.env.srcdir)
        self.env.note_dependency(str(Path(self.env.srcdir) / CLAIMS_FILE))
        return [self._verdict_words(table_of_truth), claims_summary(), self._table(table_of_truth),
                self._quotations(table_of_truth), self._literature(table_of_truth)]

    @staticmethod
    def _verdict_words(table_of_truth: dict[str, Any]) -> nodes.definition_list:
        words = nodes.definition_list(classes=["claims-verdicts"])
        for word, meaning in table_of_truth["verdicts"].items():
            item = nodes.definition_list_item()
            item += nodes.term(word, word)
            definition = nodes.definition()
            definition += nodes.paragraph(text=meaning)
            item += definition
            words += item
        return words

    def _pasted(self, chapter: str, key: str) -> nodes.Node:
        from myst_nb.ext.glue.utils import create_pending_glue_ref

        return create_pending_glue_ref(self.state.document, self.env.docname, self.lineno, f"{chapter}.md", key,
                                       inline=True, gtype="text", fmt_spec="s")

    def _table(self, table_of_truth: dict[str, Any]) -> nodes.table:
        headers = ["#", "Claim", "Verdict", "Deciding number", "Scope", "Chapter"]
        widths = [4, 34, 12, 26, 20, 10]
        table = nodes.table(classes=["claims-audit"])
        group = nodes.tgroup(cols=len(headers))
        table += group
        group += [nodes.colspec(colwidth=w) for w in widths]
        head = nodes.thead()
        head += self._row([nodes.paragraph(text=h) for h in headers])
        body = nodes.tbody()
        for claim in table_of_truth["claims"]:
            number, chapter = claim["number"], claim["chapter"]
            link = nodes.paragraph()
            link += addnodes.pending_xref("", nodes.inline(text=chapter), refdomain="std", reftype="ref",
                                          reftarget=f"chapter-{chapter}", refexplicit=False,
                                          refdoc=self.env.docname, refwarn=True)
            verdict = nodes.paragraph()
            verdict += nodes.strong("", "", self._pasted(chapter, f"claim-{number}-verdict"))
            scope = (nodes.paragraph(text=claim["scope"]) if "scope" in claim
                     else nodes.paragraph("", "", self._pasted(chapter, f"claim-{number}-scope")))
            text = nodes.paragraph(text=claim["claim"])
            if claim.get("term"):
                text += nodes.Text(" (")
                text += nodes.inline(claim["term"], claim["term"], classes=["language-zh-Hans"])
                text += nodes.Text(")")
            body += self._row([
                nodes.paragraph(text=str(number)),
                text,
                verdict,
                nodes.paragraph("", "", self._pasted(chapter, f"claim-{number}-number")),
                scope,
                link,
            ])
        group += [head, body]
        return table

    @staticmethod
    def _quotations(table_of_truth: dict[str, Any]) -> nodes.section:
        """Each claim in the write-up's own words: the Chinese (marked as such), its translation, the source."""
        section = nodes.section(ids=["claims-in-their-own-words"], names=["the write-ups' own words"])
        section += nodes.title(text="The write-ups' own words")
        section += nodes.paragraph(text=(
            "Each claim above is a paraphrase. Here is the sentence or phrase of the write-up it comes "
            "from, as captured, with an English translation; the write-ups are named by their titles and "
            "dates as the captures give them."))
        sources = table_of_truth["sources"]
        quotations = nodes.bullet_list(classes=["claims-quotations"])
        for claim in _quoted(table_of_truth):
            source = sources[claim["source"]]
            item = nodes.list_item(ids=[f"claim-quotation-{claim['number']}"])
            quoted = nodes.paragraph()
            quoted += nodes.strong(text=f"Claim {claim['number']}. ")
            quoted += nodes.inline("", f"“{claim['quote']}”", classes=["language-zh-Hans"])
            item += quoted
            translated = nodes.paragraph()
            translated += nodes.Text(f"“{claim['translation']}” From ")
            translated += nodes.emphasis("", "", nodes.inline("", source["title"], classes=["language-zh-Hans"]))
            translated += nodes.Text(f" ({source['english']}; "
                                     + (f"dated {source['date']}" if source.get("date") else "no date given")
                                     + ").")
            item += translated
            quotations += item
        section += quotations
        return section

    def _literature(self, table_of_truth: dict[str, Any]) -> nodes.section:
        """Each claim from the wider literature: where readers meet it, with the works cited for it."""
        section = nodes.section(ids=["claims-from-the-literature"], names=["claims from the wider literature"])
        section += nodes.title(text="Claims from the wider literature")
        cited = [claim for claim in table_of_truth["claims"] if "cited" in claim]
        section += nodes.paragraph(text=(
            "These claims do not come from the write-ups: readers meet them in papers, framework documentation "
            "and issue trackers. Here is where each is made or discussed, with the works cited for it."))
        items = nodes.bullet_list(classes=["claims-literature"])
        for claim in cited:
            item = nodes.list_item(ids=[f"claim-source-{claim['number']}"])
            keys = ",".join(claim["cited"])
            lines = [f"**Claim {claim['number']}.** {claim['where']} {{cite:p}}`{keys}`"]
            self.state.nested_parse(StringList(lines, source=CLAIMS_FILE), self.content_offset, item)
            items += item
        section += items
        return section

    @staticmethod
    def _row(cells: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell
            row += entry
        return row


class FillClaimsSummary(SphinxPostTransform):
    """Count the verdicts the chapters glued, once all of them have run."""

    default_priority = 6  # after MyST-NB pastes the cross-document glue (priority 5)

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(claims_summary)):
            table_of_truth = _claims_table(self.env.srcdir)
            counts = {verdict: 0 for verdict in table_of_truth["verdicts"]}
            for claim in table_of_truth["claims"]:
                verdict = _glued_text(self.env, f"book/{claim['chapter']}", f"claim-{claim['number']}-verdict")
                if verdict in counts:
                    counts[verdict] += 1
            total = len(table_of_truth["claims"])
            parts = "; ".join(f"{verdict}: {count}" for verdict, count in counts.items())
            node.replace_self(nodes.paragraph(text=f"Verdicts over the {total} claims, {parts}."))


def _check_claims(app: Sphinx, env: BuildEnvironment) -> None:
    """Every claim has a verdict from the allowed words and a deciding number, glued by its chapter."""
    table_of_truth = _claims_table(app.srcdir)
    allowed = list(table_of_truth["verdicts"])
    numbers = [claim["number"] for claim in table_of_truth["claims"]]
    # Ascending and unique; tests/test_claims.py holds the file to the full, gapless list.
    if numbers != sorted(set(numbers)) or numbers[:1] != [1]:
        LOGGER.warning(f"{CLAIMS_FILE}: claims must be numbered 1, 2, ... in order, got {numbers}")
    for claim in table_of_truth["claims"]:
        docname = f"book/{claim['chapter']}"
        if docname not in env.found_docs:
            LOGGER.warning(f"{CLAIMS_FILE}: claim {claim['number']} names {claim['chapter']!r}, not in the book")
            continue
        verdict = _glued_text(env, docname, f"claim-{claim['number']}-verdict")
        if verdict not in allowed:
            LOGGER.warning(f"claims audit: chapter {claim['chapter']!r} glued verdict {verdict!r} for claim "
                           f"{claim['number']}; expected one of {allowed}")
        if not _glued_text(env, docname, f"claim-{claim['number']}-number"):
            LOGGER.warning(f"claims audit: chapter {claim['chapter']!r} glued no deciding number for claim "
                           f"{claim['number']} (key claim-{claim['number']}-number)")
        if "scope" not in claim and not _glued_text(env, docname, f"claim-{claim['number']}-scope"):
            LOGGER.warning(f"claims audit: claim {claim['number']} has no scope: chapter {claim['chapter']!r} "
                           f"glued no claim-{claim['number']}-scope and {CLAIMS_FILE} gives none")
        if "cited" in claim:
            if not claim["cited"] or not claim.get("where"):
                LOGGER.warning(f"{CLAIMS_FILE}: claim {claim['number']} needs `cited` (keys of "
                               "book/references.bib) and `where` (where readers meet the claim)")
            continue
        missing = [key for key in ("source", "quote", "translation", "term") if not claim.get(key)]
        if missing or claim.get("source") not in table_of_truth["sources"]:
            LOGGER.warning(f"{CLAIMS_FILE}: claim {claim['number']} needs a quotation, its translation and a "
                           f"source among {list(table_of_truth['sources'])} "
                           f"(missing or unknown: {missing or 'source'})")


def _audit_follows_the_chapters(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                                removed: set[str]) -> list[str]:
    """Rebuild the audit page whenever a chapter is re-read, since it pastes their glued verdicts."""
    return [AUDIT_DOCNAME] if (added | changed | removed) - {AUDIT_DOCNAME} and AUDIT_DOCNAME in env.found_docs else []


def _visit_citation(self: HTML5Translator, node: nodes.citation) -> None:
    """docutils' ``visit_citation`` with ``role="listitem"`` in place of ``role="doc-biblioentry"``.

    docutils wraps the entries of a bibliography in ``<div role="list">`` and gives each the DPUB role
    doc-biblioentry, which ARIA 1.2 deprecates. Assistive technology then finds a list without list items
    (axe-core: aria-required-children, impact critical, on the references page); as list items, the
    entries are read as the numbered list they are.
    """
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def _visit_hidden_cell(self: HTML5Translator, node: nodes.Element) -> None:
    """MyST-NB's ``visit_HideCellInput`` without ``aria-label="Toggle hidden content"`` on the summary.

    The label replaced the visible prompt ("Show code cell source") as the summary's accessible name, so a
    speech-input user who says what they see does not reach it (axe-core: label-content-name-mismatch,
    serious, on every cell collapsed with ``hide-input``). Without it the name is the prompt on show; the
    other prompt is hidden by MyST-NB's CSS until the cell is opened.
    """
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n</summary>\n')


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _pairs_to_tuples, priority=100)
    # The departure (closing the entry, and the list after the last one) is docutils' own.
    app.add_node(nodes.citation, override=True, html=(_visit_citation, HTML5Translator.depart_citation))
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput

    app.add_node(HideCodeCellNode, override=True, html=(_visit_hidden_cell, depart_HideCellInput))
    app.add_directive("actlib-registry", ActlibRegistry)
    app.add_directive("actlib-others", ActlibOthers)
    app.add_node(claims_summary)
    app.add_directive("claims-audit", ClaimsAudit)
    app.add_post_transform(FillClaimsSummary)
    app.connect("env-updated", _check_claims)
    app.connect("env-get-outdated", _audit_follows_the_chapters)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
