"""``book/claims.yml``, the table the claims audit is built from, read without building the book.

The strict build checks what only a build can (every verdict, number and scope glued by its chapter);
these checks are about the file itself: the claims are numbered 1, 2, ... without a gap, each names a
chapter of the book, each write-up claim quotes a known source, and each claim from the wider
literature cites works that the bibliography holds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TABLE = yaml.safe_load((ROOT / "book" / "claims.yml").read_text(encoding="utf-8"))
CLAIMS = TABLE["claims"]
BIB_KEYS = set(re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "book" / "references.bib").read_text(encoding="utf-8"),
                          flags=re.MULTILINE))


def test_claims_are_numbered_without_gaps() -> None:
    assert [claim["number"] for claim in CLAIMS] == list(range(1, len(CLAIMS) + 1))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: f"claim-{claim['number']}")
def test_each_claim_names_a_chapter_and_where_it_comes_from(claim: dict) -> None:
    assert (ROOT / "book" / f"{claim['chapter']}.md").is_file(), f"claim {claim['number']}: no chapter"
    assert claim.get("claim"), f"claim {claim['number']} has no text"
    if "cited" in claim:
        assert claim["cited"] and set(claim["cited"]) <= BIB_KEYS, (
            f"claim {claim['number']} cites keys missing from references.bib: {set(claim['cited']) - BIB_KEYS}")
        assert claim.get("where"), f"claim {claim['number']} cites works but says not where the claim is made"
        assert not {"quote", "translation", "source"} & set(claim), f"claim {claim['number']}: quote or cite, not both"
    else:
        assert claim.get("source") in TABLE["sources"], f"claim {claim['number']}: unknown source"
        assert claim.get("quote") and claim.get("translation") and claim.get("term"), (
            f"claim {claim['number']} needs its quotation, translation and glossary term")


def test_the_bibliography_keys_are_read() -> None:
    assert {"so2021", "shazeer2020"} <= BIB_KEYS
