"""The real-resolution corpus (tests/corpus): well formed, and the parser scored against it.

The checks on the corpus itself keep the reference honest: every annotation file parses,
every annotated paragraph number is printed in its text, every text has its source listed,
the PDFs really carry page headers, page numbers and hyphenation. The scorer is checked on
annotations fed back as a parse (all right) and on a damaged one (each kind of error counted).
The last test runs the parser of this checkout on the whole corpus and holds it to the
issue's thresholds per language.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pypdfium2 as pdfium
import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus"


def _load(name: str, path: Path) -> ModuleType:
    """A script of bench/ or tests/corpus/ as a module (they are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(REPO / "bench"))  # parse_corpus imports bench/results.py for --record
scorer = _load("parse_corpus", REPO / "bench" / "parse_corpus.py")
make_pdfs = _load("corpus_make_pdfs", CORPUS / "make_pdfs.py")


@pytest.fixture(scope="module")
def documents() -> list[Any]:
    return cast(list[Any], scorer.load_corpus())


def _source_text(document: Any) -> str:
    """The text as copied: the file itself, or for a PDF the text it was made from."""
    if document.path.suffix == ".pdf":
        return (CORPUS / "pdf_sources" / f"{document.doc_id}.txt").read_text(encoding="utf-8")
    return str(document.path.read_text(encoding="utf-8"))


def test_corpus_has_what_the_issue_asks_for(documents: list[Any]) -> None:
    resolutions = {lang: 0 for lang in scorer.LANGUAGES}
    for document in documents:
        resolutions[document.language] += len(document.resolutions)
    assert sum(resolutions.values()) >= 25
    assert resolutions["en"] >= 8 and resolutions["ar"] >= 8 and resolutions["fr"] >= 5
    metas = [json.loads((CORPUS / "truth" / f"{d.doc_id}.json").read_text()) for d in documents]
    un_bodies = ("UN General Assembly", "Human Rights Council", "Economic and Social Council")
    assert sum(len(m["resolutions"]) for m in metas if m["issued_by"] in un_bodies) >= 4
    assert sum(len(d.resolutions) > 1 for d in documents) >= 2
    assert sum(d.path.suffix == ".pdf" for d in documents) >= 5


def test_every_annotation_parses_and_names_its_text(documents: list[Any]) -> None:
    listed = {p.name for d in documents for r in d.resolutions for p in [Path(r.annotations)]}
    on_disk = {p.name for p in (CORPUS / "truth").glob("*.tsv")}
    assert listed == on_disk, "every TSV belongs to exactly one resolution of a document"
    assert {d.path.name for d in documents} == {p.name for p in (CORPUS / "docs").iterdir()}
    for document in documents:
        for resolution in document.resolutions:
            assert resolution.rows, f"{resolution.annotations} is empty"


def test_annotated_numbers_are_printed_in_the_text(documents: list[Any]) -> None:
    for document in documents:
        text = _source_text(document)
        meta = json.loads((CORPUS / "truth" / f"{document.doc_id}.json").read_text())
        for resolution, entry in zip(document.resolutions, meta["resolutions"], strict=True):
            if not entry["numbered"]:
                continue
            for row in resolution.rows:
                n = row.paragraph
                # at the start of a line, or run in after the previous clause ("…,/ 1. Endorses")
                printed = re.compile(
                    rf"(?:^\s*|[,;:]\s+)(?:\(\s*{n}\s*\)|{n}\s*[.\-)])", re.MULTILINE
                )
                assert printed.search(text), f"{document.doc_id}: paragraph {n} is not printed"


def test_malformed_annotations_are_refused_with_the_line(tmp_path: Path) -> None:
    table = tmp_path / "x.tsv"
    table.write_text("paragraph\tsection\tverbs\taddressees\n1\t\tRequests\tSG,NONE\n")
    with pytest.raises(scorer.CorpusError, match=r"x.tsv:2: ALL, NONE and \? stand alone"):
        scorer.read_tsv(table)
    table.write_text("paragraph\tsection\tverbs\taddressees\n1\t\tRequests\tXX\n")
    with pytest.raises(scorer.CorpusError, match=r"x.tsv:2: unknown addressee class"):
        scorer.read_tsv(table)
    table.write_text("paragraph\tsection\tverbs\taddressees\n2\t\tRequests\tSG\n")
    with pytest.raises(scorer.CorpusError, match="without gaps"):
        scorer.read_tsv(table)


def test_every_text_has_its_source_listed(documents: list[Any]) -> None:
    sources = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    for document in documents:
        row = next((line for line in sources.splitlines() if f"`{document.doc_id}`" in line), "")
        assert re.search(r"https?://|GitHub `[\w.-]+/[\w.-]+`", row), document.doc_id
    pdf_sources = {p.stem for p in (CORPUS / "pdf_sources").glob("*.txt")}
    pdfs = {d.doc_id for d in documents if d.path.suffix == ".pdf"}
    assert pdf_sources == pdfs, "each PDF is made from a text kept in pdf_sources/"


def test_pdfs_carry_headers_page_numbers_and_hyphenation(documents: list[Any]) -> None:
    hyphenated = 0
    for document in (d for d in documents if d.path.suffix == ".pdf"):
        pdf = pdfium.PdfDocument(document.path)
        pages = [page.get_textpage().get_text_range() for page in pdf]
        pdf.close()
        assert all(page.strip() for page in pages), f"{document.doc_id} has no text layer"
        for number, page in enumerate(pages, start=1):
            footer = page.strip().splitlines()[-1]
            assert str(number) in footer, f"{document.doc_id} p.{number}: no page number"
        first_line = pages[0].strip().splitlines()[0]
        header_word = make_pdfs.HEADERS[document.doc_id].split()[0]
        assert first_line.startswith(header_word), f"{document.doc_id}: no running header"
        # pdfium reads a hyphenation break as U+FFFE joining the two halves ("com\ufffemercial")
        hyphenated += sum(page.count("\ufffe") for page in pages)
    assert hyphenated >= 2, "LibreOffice hyphenated no English or French line"


def _perfect_run(document: Any) -> Any:
    """What a flawless parser would print for ``document``, built from its annotations."""
    resolutions = []
    for resolution in document.resolutions:
        resolutions.append(
            {
                "symbol": resolution.symbol,
                "adopted_on": resolution.adopted_on,
                "paragraphs": [
                    {
                        "number": row.paragraph,
                        "verbs": list(row.verbs),
                        "addressees": sorted(row.addressees - {"?"}),
                    }
                    for row in resolution.rows
                ],
            }
        )
    return scorer.Run(0, resolutions, "")


def test_scorer_gives_full_marks_to_the_annotations_themselves(documents: list[Any]) -> None:
    runs = {d.path: _perfect_run(d) for d in documents}
    result = scorer.score(documents, runs)
    assert result.below_threshold() == []
    assert result.failures == {}
    for language in scorer.LANGUAGES:
        for metric in scorer.METRICS:
            assert result.tallies[language].rate(metric) == 1.0, (language, metric)


def test_scorer_counts_each_kind_of_error(documents: list[Any]) -> None:
    runs = {d.path: _perfect_run(d) for d in documents}
    base = scorer.score(documents, runs).tallies["en"]
    target = next(d for d in documents if d.doc_id == "en05_a-res-80-12")
    parsed = runs[target.path].resolutions[0]
    parsed["paragraphs"].append({"number": 11, "verbs": ["Requests"], "addressees": ["SG"]})
    del parsed["paragraphs"][0]  # §1 lost
    parsed["paragraphs"][0]["verbs"] = ["Welcomes"]  # §2 wrong verb
    parsed["paragraphs"][1]["addressees"] = ["ALL"]  # §3 wrong addressee
    parsed["symbol"] = "A/RES/80/13"
    result = scorer.score(documents, runs)
    english = result.tallies["en"]
    right, annotated = base.paragraphs
    assert english.paragraphs == [right - 1, annotated + 1]  # 1 lost, 1 invented
    assert english.verbs == [base.verbs[0] - 2, base.verbs[1]]  # the lost one and the wrong one
    assert english.addressees == [base.addressees[0] - 2, base.addressees[1]]
    assert english.symbol_date == [base.symbol_date[0] - 1, base.symbol_date[1]]
    problems = "\n".join(result.failures["en05_a-res-80-12"])
    for expected in ("paragraphs not found [1]", "[11]", "§2: verbs Welcomes", "§3: addressees"):
        assert expected in problems


def test_verbs_compare_as_a_reader_would() -> None:
    assert scorer.verbs_match(["Calls upon"], ["CALLS UPON"])
    assert scorer.verbs_match(["requests"], ["Also requests"])
    assert scorer.verbs_match(["يطلب"], ["ويطلب"])
    assert scorer.verbs_match(["يطلب"], ["یطلب"])  # Persian yeh from a PDF
    assert scorer.verbs_match(["Décide", "invite"], ["DECIDE", "invite"])
    assert scorer.verbs_match(["autoriser"], ["D’autoriser"])
    assert not scorer.verbs_match(["Requests"], ["Invites"])
    assert not scorer.verbs_match(["Requests", "Urges"], ["Requests"])


def test_parser_reaches_the_issue_thresholds_per_language(documents: list[Any]) -> None:
    runs = scorer.run_parser([d.path for d in documents], sys.executable)
    result = scorer.score(documents, runs)
    assert result.below_threshold() == [], scorer.failure_list(result)
