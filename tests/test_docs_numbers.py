"""No hand-copied numbers: every precise number in README.md and docs/*.md comes from generated
material — the README's generated blocks, the generated docs pages, the tables the docs' hook
computes (`iarc_hf.experiments.docs_tables`) and the committed result and bench JSONs, formatted
as the tables format them. "Precise": a decimal with 3 or more digits (`0.953`, a mean ± std
`0.9503 ± 0.0006` as a whole) or a comma-grouped integer (`1,446,116`). Code (fenced blocks and
inline spans) and arXiv identifiers are not measurements and are skipped.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATED_PAGES = ("results-tables.md",)  # written by `scripts/reproduce.py report`
README_BLOCKS = (
    ("<!-- headline:start -->", "<!-- headline:end -->"),
    ("<!-- leaderboard:start -->", "<!-- leaderboard:end -->"),
)
NUMBER = re.compile(
    r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+\.\d{3,}(?:\s*±\s*\d+\.\d+)?)(?![\w.])"
)
SKIPPED = re.compile(r"`[^`\n]*`|arXiv:\d+\.\d+|abs/\d+\.\d+|<!-- generated:[a-z0-9-]+ -->")


def prose_lines(text: str):
    """(line number, line) of `text` outside fenced code blocks, code spans, arXiv ids and
    placeholders blanked."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield number, SKIPPED.sub(" ", line)


def numbers_in(text: str) -> set[str]:
    """Every precise number of `text`, a mean ± std both whole and as its two parts."""
    found = set()
    for match in NUMBER.findall(text):
        found.add(re.sub(r"\s*±\s*", " ± ", match))
        found.update(part.strip() for part in match.split("±"))
    return found


def without_blocks(text: str) -> str:
    """README.md with its generated blocks emptied (line numbers kept)."""
    for start, end in README_BLOCKS:
        if start in text and end in text:
            head, rest = text.split(start, 1)
            block, tail = rest.split(end, 1)
            text = head + start + "\n" * block.count("\n") + end + tail
    return text


def json_numbers(value, found: set[str]) -> None:
    """The numbers of a JSON value as the tables print them: floats to 3 and 4 decimals (and 1,
    for seconds), integers comma-grouped."""
    if isinstance(value, dict):
        for item in value.values():
            json_numbers(item, found)
    elif isinstance(value, list):
        for item in value:
            json_numbers(item, found)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        found.add(f"{value:,}")
    elif isinstance(value, float):
        found.update({f"{value:.3f}", f"{value:.4f}", f"{value:,.0f}"})


@lru_cache(maxsize=1)
def generated_material() -> frozenset[str]:
    from iarc_hf.experiments.docs_tables import PLACEHOLDER, TABLES

    texts = []
    readme = (ROOT / "README.md").read_text()
    for start, end in README_BLOCKS:
        texts.append(readme.split(start, 1)[1].split(end, 1)[0])
    texts += [(ROOT / "docs" / name).read_text() for name in GENERATED_PAGES]
    used = {
        m for page in (ROOT / "docs").glob("*.md") for m in PLACEHOLDER.findall(page.read_text())
    }
    texts += [TABLES[name](ROOT) for name in sorted(used)]
    found = set()
    for text in texts:
        found |= numbers_in(text)
    for path in sorted((ROOT / "results").rglob("*.json")):
        try:
            json_numbers(json.loads(path.read_text()), found)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # a file being written as we read: the report skips it too
    return frozenset(found)


def unbacked_numbers(name: str, text: str, material) -> list[str]:
    """'page:line: number' for each precise number of `text` not in `material`."""
    problems = []
    for number, line in prose_lines(text):
        for match in NUMBER.findall(line):
            value = re.sub(r"\s*±\s*", " ± ", match)
            if value not in material:
                problems.append(f"{name}:{number}: {value}")
    return problems


def pages() -> list[tuple[str, str]]:
    out = [("README.md", without_blocks((ROOT / "README.md").read_text()))]
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name not in GENERATED_PAGES:
            out.append((f"docs/{page.name}", page.read_text()))
    return out


def test_every_precise_number_in_the_readme_and_the_docs_is_generated():
    material = generated_material()
    problems = [p for name, text in pages() for p in unbacked_numbers(name, text, material)]
    assert not problems, (
        "numbers typed by hand (not in a generated table or a committed JSON); use a "
        "`<!-- generated:NAME -->` table or refer to one:\n" + "\n".join(problems)
    )


def test_a_hand_typed_wrong_number_is_named_with_its_page_and_line(tmp_path):
    page = tmp_path / "wrong.md"
    page.write_text(
        "# A page\n\n"
        "The cisformer reaches 0.9876 ± 0.0001 with 1,446,117 parameters.\n"
        "```bash\npython train.py --learning_rate 0.0071762\n```\n"  # code: skipped
        "Real: `cisformer-ea-best` has 973,796 parameters (arXiv:2508.04461).\n"
    )
    problems = unbacked_numbers("docs/wrong.md", page.read_text(), generated_material())
    assert problems == ["docs/wrong.md:3: 0.9876 ± 0.0001", "docs/wrong.md:3: 1,446,117"]


def test_the_number_pattern():
    assert numbers_in("a 0.9503 ± 0.0006 b 1,446,116 c 0.95 d 2.13.0 e 12 f 0.953") == {
        "0.9503 ± 0.0006",
        "0.9503",
        "0.0006",
        "1,446,116",
        "0.953",
    }


def test_the_docs_presets_table_gives_every_presets_real_parameter_count():
    """models.md's presets table, as the hook renders it, against models built for real."""
    from iarc_hf.configuration_iarc import PRESETS, IARCConfig
    from iarc_hf.experiments.docs_tables import render
    from iarc_hf.modeling_iarc import IARCModel

    page = (ROOT / "docs" / "models.md").read_text()
    assert "<!-- generated:presets -->" in page
    rows = re.findall(r"^\| `([\w-]+)` \|.*\| ([\d,]+) \| [^|]* \|$", render(page, ROOT), re.M)
    shown = {name: int(count.replace(",", "")) for name, count in rows}
    assert set(shown) == set(PRESETS)
    for name in PRESETS:
        model = IARCModel(IARCConfig.from_preset(name))
        assert shown[name] == sum(p.numel() for p in model.parameters()), name


def test_an_unknown_placeholder_fails_the_build():
    from iarc_hf.experiments.docs_tables import render

    with pytest.raises(ValueError, match="unknown generated table 'presetz'"):
        render("<!-- generated:presetz -->\n", ROOT)
    assert render("no placeholder\n", ROOT) == "no placeholder\n"
