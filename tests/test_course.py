"""The notebooks as a course: every notebook's teaching sections, and every exercise answered by running it.

Each lesson opens with what the reader will learn and ends with What we learned (its numbers inline), Try it
yourself and References; the appendix holds the course's provenance. Two or three exercises are done in the
notebook — predict first, then code, in an empty cell — with worked solutions in ``notebooks/solutions/``
(executed; nbval and the inline-value test check them as they check the lessons). At most one exercise per
lesson is a command-line rerun with a worked answer in a collapsible block: the tests below run each command
as written and look in what it produced for every figure its answer states (``CHECKS``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from leukemia import config
from leukemia.inline import expressions, with_values
from leukemia.report import GLOSSARY_FILE, render_report

NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
#: The lessons: every notebook but the appendix, which holds reference material and the provenance.
LESSONS = [path for path in NOTEBOOKS if not path.stem.endswith("_appendix")]
DOI = re.compile(r"https://doi\.org/(10\.\d{4,9}/[^\s)>\]]+)")
EXERCISE = re.compile(
    r"\*\*(?P<number>\d+)\.[^*]*\*\*.*?```bash\n(?P<command>.+?)\n```(?P<question>.*?)"
    r"<details><summary>Answer</summary>(?P<answer>.*?)</details>",
    flags=re.DOTALL,
)


def _cells(path: Path) -> list[nbformat.NotebookNode]:
    return nbformat.read(path, as_version=4).cells


def _heading_index(cells: list[nbformat.NotebookNode], heading: str) -> int:
    found = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith(heading)]
    assert len(found) == 1, f"one markdown cell starting {heading!r}, found {len(found)}"
    return found[0]


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Exercise:
    notebook: str
    number: int
    command: str
    answer: str

    def __str__(self) -> str:
        return f"{self.notebook}-{self.number}"


def exercises(path: Path) -> list[Exercise]:
    """The command-line exercise of a notebook's Try it yourself section (none or one), in order."""
    cells = _cells(path)
    start, end = _heading_index(cells, "## Try it yourself"), _heading_index(cells, "## References")
    return [
        Exercise(path.stem, int(m["number"]), m["command"].strip(), m["answer"].strip())
        for cell in cells[start:end]
        if cell.cell_type == "markdown" and "```bash" in cell.source
        for m in EXERCISE.finditer(cell.source)
    ]


ALL_EXERCISES = [exercise for path in LESSONS for exercise in exercises(path)]


# --------------------------------------------------------------------------------------- structure


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_opens_with_its_question_and_what_you_will_learn(path: Path) -> None:
    opening, goals = _cells(path)[:2]
    assert opening.cell_type == "markdown" and opening.source.startswith("# "), "H1 title first"
    assert "?" in opening.source, "the opening states the notebook's question"
    # What you will learn is a cell of its own, tagged as the course's: a run on other data leaves it out
    assert goals.source.startswith("**What you will learn**") and "course" in goals.metadata.get("tags", [])
    points = [line for line in goals.source.splitlines() if line.startswith("- ")]
    assert 2 <= len(points) <= 5, f"two to four (or five) points to learn, found {len(points)}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_ends_with_what_we_learned_exercises_then_references(path: Path) -> None:
    cells = _cells(path)
    learned = _heading_index(cells, "## What we learned")
    tried = _heading_index(cells, "## Try it yourself")
    cited = _heading_index(cells, "## References")
    assert learned < tried < cited == len(cells) - 1, "learned, try, references last"
    tagged = ["course" in c.metadata.get("tags", []) for c in cells]
    assert all(tagged[tried:]) and not any(tagged[2:tried]), "the exercises and references are the course's"
    summary = [c for c in cells[learned:tried] if c.cell_type == "markdown"]
    assert any(expressions(c.source) for c in summary), "What we learned states the numbers, inline"
    assert not any(c.source.startswith("## Provenance") for c in cells), "provenance once, in the appendix"


def test_the_appendix_holds_the_one_provenance_section() -> None:
    (appendix,) = [p for p in NOTEBOOKS if p not in LESSONS]
    cells = _cells(appendix)
    provenance = _heading_index(cells, "## Provenance")
    table = cells[provenance + 1]
    assert table.cell_type == "code" and table.outputs and "provenance_table" in table.source, "computed"


def test_the_appendix_lists_every_work_the_lessons_cite() -> None:
    """A run on other data leaves each lesson's references out; the appendix's list, kept, must hold them all
    (the data files' own citation aside)."""
    (appendix,) = [p for p in NOTEBOOKS if p not in LESSONS]
    cells = _cells(appendix)
    listed = cells[_heading_index(cells, "## References")].source
    assert "course" not in cells[-1].metadata.get("tags", []), "kept in every run"
    for lesson in LESSONS:
        lesson_cells = _cells(lesson)
        references = lesson_cells[_heading_index(lesson_cells, "## References")].source
        cited = references.split("Documentation of")[0]
        for line in cited.splitlines():
            if line.startswith("- ") and "kaggle" not in line.lower():
                assert line.strip() in listed, f"{lesson.stem}: {line[:80]}"


def _in_notebook_exercises(
    cells: list[nbformat.NotebookNode],
) -> list[tuple[int, str, nbformat.NotebookNode]]:
    """(number, text, the cell after it) of each exercise done in the notebook."""
    start, end = _heading_index(cells, "## Try it yourself"), _heading_index(cells, "## References")
    found = []
    for index in range(start + 1, end):
        cell = cells[index]
        heading = re.match(r"\*\*(\d+)\.", cell.source) if cell.cell_type == "markdown" else None
        if heading and "```bash" not in cell.source:
            found.append((int(heading[1]), cell.source, cells[index + 1]))
    return found


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_exercises_done_in_the_notebook_with_an_empty_cell_each(path: Path) -> None:
    cells = _cells(path)
    tasks = _in_notebook_exercises(cells)
    commands = exercises(path)
    assert 2 <= len(tasks) <= 3, f"two or three exercises done in the notebook, found {len(tasks)}"
    assert len(commands) <= 1, "at most one command-line rerun"
    numbers = [number for number, _, _ in tasks] + [e.number for e in commands]
    assert numbers == list(range(1, len(numbers) + 1)), "numbered 1, 2, … (the command-line one last)"
    for number, text, after in tasks:
        assert "*Predict first:*" in text and "*Then code:*" in text, f"exercise {number}: predict, then code"
        assert after.cell_type == "code" and after.source == "", f"exercise {number}: an empty cell follows"
        assert "exercise" in after.metadata.get("tags", []), f"exercise {number}: its cell is tagged"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_exercise_done_in_a_notebook_has_a_worked_solution(path: Path) -> None:
    solution = config.NOTEBOOKS_DIR / "solutions" / path.name
    assert solution.is_file(), f"notebooks/solutions/{path.name}"
    cells = _cells(solution)
    assert cells[0].source.startswith("# Solutions"), "titled as the solutions of its lesson"
    headings = [
        c.source.split("\n")[0] for c in cells if c.cell_type == "markdown" and c.source.startswith("## ")
    ]
    expected = [f"## Exercise {number}" for number, _, _ in _in_notebook_exercises(_cells(path))]
    assert [h for h in headings if h.startswith("## Exercise")] == expected
    computed = [c for c in cells if c.cell_type == "code"]
    assert computed and all(c.execution_count for c in computed), "executed, outputs committed"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_command_line_exercise_is_a_command_and_a_question_with_a_worked_answer(path: Path) -> None:
    cells = _cells(path)
    start, end = _heading_index(cells, "## Try it yourself"), _heading_index(cells, "## References")
    text = "".join(c.source for c in cells[start:end] if c.cell_type == "markdown")
    found = exercises(path)
    assert text.count("<details>") == len(found) == text.count("</details>"), "one answer block per exercise"
    assert "<details open" not in text, "answers start collapsed"
    commands = [c for c in cells[start:end] if c.cell_type == "markdown" and "```bash" in c.source]
    assert all("golub-only" in c.metadata.get("tags", []) for c in commands), "its answer is Golub's: tagged"
    for exercise in found:
        assert "leukemia " in exercise.command, f"{exercise}: a command the reader runs"
        assert len(exercise.answer.split()) >= 25, f"{exercise}: a worked answer, not a word"
        assert "ANSWER_" not in exercise.answer


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_cites_its_sources_with_dois(path: Path) -> None:
    cells = _cells(path)
    references = cells[_heading_index(cells, "## References")].source
    entries = [line for line in references.splitlines() if line.startswith("- ")]
    dois = DOI.findall(references)
    assert dois, "full citations with DOIs"
    assert len(set(dois)) == len(dois), "each paper once"
    papers = [e for e in entries if "doi.org" in e or "(no DOI)" in e]
    assert all(re.search(r"\(\d{4}\)", e) for e in papers), "every paper with its year"
    if "Golub" in "".join(c.source for c in cells if c.cell_type == "markdown"):
        assert "10.1126/science.286.5439.531" in dois, "Golub et al. (1999) cited where it is used"


def test_the_glossary_defines_every_term_the_notebooks_link_to() -> None:
    headings = {
        line[4:].strip().replace(" ", "-")
        for line in GLOSSARY_FILE.read_text().splitlines()
        if line.startswith("### ")
    }
    linked = set()
    for path in NOTEBOOKS:
        for cell in _cells(path):
            if cell.cell_type == "markdown":
                linked |= set(re.findall(r"glossary\.md#([^)\s]+)", cell.source))
        assert "](glossary.md)" in _cells(path)[0].source, f"{path.name} points the reader to the glossary"
    assert linked <= headings, f"links to missing glossary entries: {sorted(linked - headings)}"
    assert len(headings) >= 20


def test_the_report_carries_the_glossary_and_collapsed_answers(tmp_path: Path) -> None:
    for path in NOTEBOOKS:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    page = render_report(tmp_path).read_text()
    assert page.count("<details>") >= 4 and "<details open" not in page, "answers render collapsed"
    assert "{eval}" not in page, "the prose shows its values"
    assert '<section id="glossary">' in page and 'href="#glossary"' in page
    assert 'href="glossary.md' not in page, "links into the glossary file point into the page"
    ids = set(re.findall(r'id="([^"]+)"', page))
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert targets <= ids, f"links without a target in the page: {sorted(targets - ids)}"


# --------------------------------------------------------------------------------------- exercises

# For every exercise: (what the worked answer says, a regular expression the run's output must match).
# An exercise whose run must fail says so with FAILS.
FAILS = ("", "")
CHECKS: dict[str, list[tuple[str, str]]] = {
    "01_load-4": [
        FAILS,
        ("AssertionError", r"AssertionError: data files"),
        ("`leukemia fetch`", r"run `leukemia fetch`"),
        ("01_load.ipynb failed", r"01_load\.ipynb failed"),
        ("as failed", r'"status": "failed"'),
    ],
    "02_eda-4": [
        ("15.0% and 12.0%", r"PC1\s+15\.0\s+0\.58\s+-0\.49"),
        ("0.58 and 0.86", r"PC2\s+12\.0\s+0\.86\s+-0\.23"),
        ("−0.57 SD", r"ALL\s+-0\.57\s+-0\.31\s+20"),
        ("−0.54 SD", r"AML\s+-0\.54\s+0\.14\s+14"),
    ],
    "03_preprocessing-4": [
        ("-16.59 to 117.80", r"minmax\s+7129\s+0\.00\s+1\.00\s+-16\.59\s+117\.80"),
        ("7.01%", r"none\s+7129.*7\.01"),
        ("Min-max scaling maps", r"minmax: 7129 genes -> 7129 genes"),
    ],
    "04_selection-4": [
        ("31 of their 50", r"genes kept by both selectors: 31 of 50"),
        ("8 genes higher in ALL and 42", r"ALL\s+8\s+25\s*\nAML\s+42\s+25"),
        ("r = 0.40 for ALL", r"ALL\s+342\s+179\.21\s+0\.40"),
        ("r = 0.35 for AML", r"AML\s+354\s+149\.03\s+0\.35"),
    ],
    "05_modeling-3": [
        ("5 of the 10", r"5 of 10 reported accuracies reproduced exactly"),
        ("32/34 = 0.9412", r"the best count, 32/34 = 0\.9412, has the 95% interval 0\.803 to 0\.993"),
        ("27/34", r"linear_svm\s+0\.9737\s+0\.9250\s+0\.1000\s+27\s+34"),
    ],
    "06_weighted_voting-3": [
        ("27 strong calls, 26", r"strong calls: 27, of which correct: 26; uncertain: 7"),
        ("patient 66", r"strong but wrong: \[66\]"),
    ],
    "07_comparison-4": [
        ("0 of 45", r"pairs at p < 0\.05 \(uncorrected\)\s+0\n"),
        ("0 of 45", r"model pairs\s+45\n"),
        ("only 14 pairs", r"pairs with 6 or more discordant patients\s+14\n"),
        ("0.125", r"smallest p-value\s+0\.125\n"),
        ("7 pairs", r"pairs with no discordant patient\s+7\n"),
    ],
    "08_nested_cv-3": [
        ("Still 5", r"0\s+0\s+4\s+4\s+1\.00\s+dudoit\s+signal_to_noise\s+50\s+weighted_voting\s+5"),
        (
            "37/38 = 0.974",
            r"nested CV, pooled over the outer folds: 37/38 = 0\.974 \(Clopper–Pearson 95% CI 0\.862–0\.999",
        ),
        ("7 different configurations", r"distinct configurations chosen by the 10 outer folds: 7"),
    ],
    "10_discovery-4": [
        ("ARI 0.70", r"hierarchical\s+2\s+2\s+0\.699\s+0\.152\s+correlation\s+24 / 14"),
        ("35 / 3", r"kmeans\s+2\s+2\s+-0\.073\s+0\.286\s+euclidean\s+35 / 3"),
        ("0.16", r"som\s+2\s+2\s+0\.155"),
        (
            "24 ALL in one cluster and 11 AML with 3 ALL",
            r"0\s+16\s+0\s+24\s+11\s+24\s+0\s*\n1\s+11\s+11\s+3\s+0\s+3\s+11",
        ),
    ],
    "11_summary-4": [
        ("5 of the seed's 10", r"matches\s+5 of the seed's 10 reported accuracies exactly"),
        ("32/34 (Gaussian naive Bayes)", r"best by test accuracy \(Gaussian naive Bayes\)\s+.+?\s32\s+34\s"),
        ("Decision tree (0.975)", r"Decision tree\s+1\.000\s+0\.975\s+31/34"),
        ("31/34, 1 fewer", r"best by CV accuracy \(Decision tree\)\s+.+?\s31\s+34\s"),
        (
            "still scores 31/34",
            r"honest protocol \(weighted_voting on 200 signal_to_noise genes after standard\)\s+.+?\s31\s+34\s",
        ),
    ],
}


def test_every_exercise_has_checks_and_every_check_an_exercise() -> None:
    assert {str(e) for e in ALL_EXERCISES} == set(CHECKS)


def _produced(run: subprocess.CompletedProcess[str], out: Path) -> str:
    """Everything the command showed: its stdout and stderr, the executed notebooks' outputs, the manifest."""
    parts = [run.stdout, run.stderr]
    for path in sorted(out.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                if output.output_type == "stream":
                    parts.append(output.text)
                elif output.output_type == "error":
                    parts.append(f"{output.ename}: {output.evalue}")
                else:
                    data = output.get("data", {})
                    parts.append(data.get("text/markdown", "") or data.get("text/plain", ""))
            if cell.cell_type == "markdown" and expressions(cell.source):
                parts.append(with_values(nbformat.v4.new_notebook(cells=[cell])).cells[0].source)
    if (out / "manifest.json").exists():
        parts.append(json.dumps(json.loads((out / "manifest.json").read_text()), indent=1))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the exercises of a module: the searches that several exercises repeat run once."""
    return tmp_path_factory.mktemp("exercise-cache")


def run_exercise(exercise: Exercise, workdir: Path, cache: Path) -> None:
    """Run the exercise's command as written (into a run directory of the test's), check its answer."""
    out = workdir / "run"
    command = exercise.command.replace("leukemia run ", f"leukemia run --out {out} -q --no-report ")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env[config.CACHE_DIR_ENV_VAR] = str(cache)
    run = subprocess.run(
        ["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True, timeout=900
    )
    checks = CHECKS[str(exercise)]
    if FAILS in checks:
        assert run.returncode != 0, f"{exercise}: the answer says this run fails"
    else:
        assert run.returncode == 0, f"{exercise} failed:\n{run.stderr[-3000:]}"
    produced = _produced(run, out)
    answer = _squash(exercise.answer)
    for said, shown in (c for c in checks if c != FAILS):
        assert _squash(said) in answer, f"{exercise}: the answer should say {said!r}"
        assert re.search(shown, produced), f"{exercise}: the run does not show {shown!r}"


# Two classes, so that pytest-xdist (--dist loadscope) runs them on both cores.
@pytest.mark.slow
class TestExercisesOfTheFirstNotebooks:
    @pytest.mark.parametrize("exercise", [e for e in ALL_EXERCISES if e.notebook < "07"], ids=str)
    def test_exercise(self, exercise: Exercise, tmp_path: Path, shared_cache: Path, data_dir: Path) -> None:
        run_exercise(exercise, tmp_path, shared_cache)


@pytest.mark.slow
class TestExercisesOfTheLaterNotebooks:
    @pytest.mark.parametrize("exercise", [e for e in ALL_EXERCISES if e.notebook >= "07"], ids=str)
    def test_exercise(self, exercise: Exercise, tmp_path: Path, shared_cache: Path, data_dir: Path) -> None:
        run_exercise(exercise, tmp_path, shared_cache)


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS + sorted((config.NOTEBOOKS_DIR / "solutions").glob("[0-9][0-9]_*.ipynb")),
    ids=lambda p: str(p.relative_to(config.NOTEBOOKS_DIR)),
)
def test_no_line_of_prose_opens_with_a_value_and_a_full_stop(path: Path) -> None:
    """In CommonMark a line "1. …" inside a paragraph starts an ordered list: a value that can be 1 opening a
    line before a full stop ("{eval}`n`. The …") breaks the paragraph in the report on some data (it did on the
    bladder data's summary)."""
    opens = re.compile(r"^\s*\{eval\}`[^`]+`[.)]\s")
    for cell in _cells(path):
        if cell.cell_type == "markdown":
            assert not any(opens.match(line) for line in cell.source.splitlines()), cell.source[:200]
