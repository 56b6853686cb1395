"""Every Chinese term the book prints is a term of the glossary.

What counts as a Chinese term, precisely: a maximal run of Han ideographs (the CJK Unified Ideographs
blocks and their extensions; punctuation and Latin letters end a run) that appears

* anywhere in a page of the book (``book/*.md``, the glossary's own definitions included: prose,
  captions and code cells, since a string in a cell may be printed), except inside a quotation: text
  between “ ” 「 」 or 『 』, or a Markdown block quote (a line starting with ``>``);
* in any value of ``book/claims.yml`` except the quotations of the write-ups (keys ``quote`` and
  ``title``); the audit prints these values, ``term`` above all;
* in a string of the Python that the chapters import and may print (``actlib`` and ``_ext``).

It is in the glossary when it is a run of one of the glossary's term lines: the unindented lines of the
``{glossary}`` directive, where each entry lists its English term and its Chinese terms, one per line,
with the alternatives readers meet. A term written with a Latin word, such as "He 初始化", contributes
its run (初始化) and so needs a term line with that run ("He 初始化").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
GLOSSARY = BOOK / "glossary.md"
QUOTATION_KEYS = {"quote", "title"}

HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+")
_QUOTATION = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』")
_GLOSSARY_BLOCK = re.compile(r"^(`{3,}|:{3,})\{glossary\}[^\n]*\n(.*?)^\1\s*$", re.MULTILINE | re.DOTALL)


def glossary_terms(markdown: str) -> list[str]:
    """The term lines of every ``{glossary}`` directive: unindented, non-blank, not an option."""
    terms = []
    for block in _GLOSSARY_BLOCK.finditer(markdown):
        for line in block.group(2).splitlines():
            if line.strip() and not line[0].isspace() and not line.startswith(":"):
                terms.append(line.strip())
    return terms


def terms_in_markdown(markdown: str) -> set[str]:
    """Han runs of a chapter outside quotations and block quotes."""
    lines = [line for line in markdown.splitlines() if not line.lstrip().startswith(">")]
    return set(HAN_RUN.findall(_QUOTATION.sub(" ", "\n".join(lines))))


def terms_in_yaml(value: object, key: str | None = None) -> Iterator[str]:
    """Han runs of every string in a YAML document, except under the quotation keys."""
    if key in QUOTATION_KEYS:
        return
    if isinstance(value, str):
        yield from HAN_RUN.findall(value)
    elif isinstance(value, dict):
        for child_key, child in value.items():
            yield from terms_in_yaml(child, str(child_key))
    elif isinstance(value, list):
        for child in value:
            yield from terms_in_yaml(child, key)


def printed_terms(root: Path = ROOT) -> dict[str, set[str]]:
    """Each Chinese term the book prints, with the files it appears in."""
    where: dict[str, set[str]] = {}

    def add(terms: set[str] | Iterator[str], path: Path) -> None:
        for term in terms:
            where.setdefault(term, set()).add(path.relative_to(root).as_posix())

    for page in sorted((root / "book").glob("*.md")):
        add(terms_in_markdown(page.read_text(encoding="utf-8")), page)
    for document in sorted((root / "book").glob("*.yml")):
        add(terms_in_yaml(yaml.safe_load(document.read_text(encoding="utf-8"))), document)
    for source in sorted([*(root / "actlib").rglob("*.py"), *(root / "_ext").rglob("*.py")]):
        add(set(HAN_RUN.findall(source.read_text(encoding="utf-8"))), source)
    return where


# --- the definitions, on text whose answer is known ------------------------------------------------


def test_glossary_term_lines_are_the_unindented_lines_of_the_directive() -> None:
    markdown = (
        "Intro 引言\n\n```{glossary}\n:sorted:\n\nReLU\n修正线性单元\n  A definition, 定义.\n\n"
        "tanh\n双曲正切\n```\n"
    )
    assert glossary_terms(markdown) == ["ReLU", "修正线性单元", "tanh", "双曲正切"]


def test_quotations_and_block_quotes_hold_no_terms() -> None:
    markdown = (
        "The {term}`ReLU` (修正线性单元) and He 初始化.\n"
        "The write-up says “神经元会死亡”, and 「引用」 too.\n"
        "> 整段引用的文字\n"
        "```{code-cell}\nprint('梯度爆炸')\n```\n"
    )
    assert terms_in_markdown(markdown) == {"修正线性单元", "初始化", "梯度爆炸"}


def test_claims_quotations_hold_no_terms() -> None:
    document = {
        "sources": {"a": {"title": "relu激活函数的作用", "english": "What ReLU does"}},
        "claims": [{"term": "梯度消失", "quote": "如果没有激活函数", "claim": "Gradients vanish"}],
    }
    assert set(terms_in_yaml(document)) == {"梯度消失"}


# --- the book -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def glossary_runs() -> set[str]:
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    assert terms, f"no {{glossary}} directive with terms in {GLOSSARY}"
    return {run for term in terms for run in HAN_RUN.findall(term)}


def test_every_printed_chinese_term_is_in_the_glossary(glossary_runs: set[str]) -> None:
    printed = printed_terms()
    assert printed, "the book prints no Chinese term, so the scan itself is broken"
    missing = {term: sorted(files) for term, files in sorted(printed.items()) if term not in glossary_runs}
    assert missing == {}, (
        "Chinese terms missing from book/glossary.md (add each as a term line of its entry, or write it as "
        f"a quotation between “ ”): {missing}"
    )


@pytest.mark.parametrize(
    "term",
    [
        # The alternatives readers meet for the book's central terms (issue 11).
        "整流线性单元",
        "线性整流函数",
        "渗漏整流线性单元",
        "泄漏修正线性单元",
        "梯度弥散",
    ],
)
def test_common_alternatives_are_glossary_terms(glossary_runs: set[str], term: str) -> None:
    assert term in glossary_runs
