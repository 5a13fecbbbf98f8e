"""Cross-file context (issue 20): the real server over stdio, the real simulator on 127.0.0.1, and
the prompt as the simulator received it. A completion that needs a function from another file of
the workspace gets its definition in the prompt; excluded files, files outside the workspace and
untitled buffers never give a snippet; a secret in a snippet is redacted."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.context import GEOMETRY_PY, REPORT_CURSOR, REPORT_PY, indexed, write
from tests.helpers.lsp import completion_requests
from tests.helpers.privacy import alnum
from tierline.privacy.redaction import PLACEHOLDER_PREFIX

GITHUB_TOKEN = f"ghp_{alnum(36, 'ctx')}"


def last_prompt(simulator) -> str:
    """What the last completion request sent: the text before and after the cursor."""
    request = completion_requests(simulator)[-1]
    return str(request["prefix"]) + str(request["suffix"])


def snippets_sent(simulator) -> set[tuple[str, str]]:
    """(path, first line) of each snippet the last request carried, in whichever shape its API takes:
    chat's named blocks or the FIM model's file separators (Qwen2.5-Coder's `<|file_sep|>`)."""
    prompt = last_prompt(simulator)
    blocks = re.findall(r'<snippet path="([^"]+)" line="\d+" source="\w+">\n([^\n]*)', prompt)
    separated = re.findall(r"<\|file_sep\|>([^\n]+)\n([^\n]*)", prompt)
    commented = re.findall(r"^# Path: ([^\n]+)\n# ([^\n]*)", prompt, re.M)
    # The last separator heads the current file.
    return set(blocks) | set(separated[:-1]) | set(commented)


async def complete_report(editor, tmp_path: Path, text: str = REPORT_PY):
    uri = (tmp_path / "pkg" / "report.py").as_uri()
    editor.open(uri, text, "python")
    await indexed(editor)
    return await editor.complete(uri, *REPORT_CURSOR)


async def test_the_definition_from_another_file_is_in_the_prompt(start_editor, simulator, tmp_path):
    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    write(tmp_path, "pkg/unrelated.py", "def parse_config(text):\n    return dict(line.split('=') for line in text)\n")
    editor = await start_editor()

    completion = await complete_report(editor, tmp_path)

    assert completion.text
    assert snippets_sent(simulator) == {("pkg/geometry.py", "def polygon_area(points):")}
    prompt = last_prompt(simulator)
    assert "shoelace formula" in prompt and "parse_config" not in prompt  # only what is wanted here
    # Before the file.
    assert prompt.index("def polygon_area(points):") < prompt.index("def total_area(shapes):")


async def test_explain_names_the_snippets_and_why(start_editor, simulator, tmp_path):
    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    editor = await start_editor()
    uri = (tmp_path / "pkg" / "report.py").as_uri()
    editor.open(uri, REPORT_PY, "python")
    await indexed(editor)

    explained = await editor.command("tierline.explain", uri, {"line": REPORT_CURSOR[0], "character": 4})

    [snippet] = explained["context"]
    assert snippet["path"] == "pkg/geometry.py" and snippet["source"] == "definitions"
    assert snippet["reason"].startswith("defines polygon_area, imported")
    assert explained["features"]["context_tokens"] >= snippet["tokens"]


async def test_context_tokens_count_the_snippets_sent(start_editor, simulator, tmp_path):
    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    with_context = await start_editor()
    uri = (tmp_path / "pkg" / "report.py").as_uri()
    with_context.open(uri, REPORT_PY, "python")
    await indexed(with_context)
    position = {"line": REPORT_CURSOR[0], "character": 4}
    sent = (await with_context.command("tierline.explain", uri, position))["features"]["context_tokens"]
    without = await start_editor({"context": {"sources": []}})
    without.open(uri, REPORT_PY, "python")
    alone = (await without.command("tierline.explain", uri, position))["features"]["context_tokens"]

    assert alone < sent


async def test_sources_off_or_no_budget_send_no_snippet(start_editor, simulator, tmp_path):
    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    for overrides in ({"context": {"sources": []}}, {"context": {"max_tokens": {"cheap": 0, "mid": 0, "premium": 0}}}):
        editor = await start_editor(overrides)
        uri = (tmp_path / "pkg" / "report.py").as_uri()
        editor.open(uri, REPORT_PY, "python")
        if overrides["context"].get("sources") != []:
            await indexed(editor)
        completion = await editor.complete(uri, *REPORT_CURSOR)
        assert completion.text
        assert not snippets_sent(simulator) and "polygon_area(points)" not in last_prompt(simulator), overrides


async def test_an_excluded_file_never_gives_a_snippet(start_editor, simulator, tmp_path):
    # The only definition of polygon_area is in files the privacy gate excludes.
    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    write(tmp_path, ".aiexclude", "pkg/geometry.py\n")
    write(tmp_path, "vendor_secret/shapes.py", GEOMETRY_PY.replace("shoelace", "secret-sauce"))
    editor = await start_editor({"privacy": {"exclude": ["vendor_secret/"]}})

    completion = await complete_report(editor, tmp_path)

    assert completion.text
    prompt = last_prompt(simulator)
    assert "def polygon_area" not in prompt and not snippets_sent(simulator)


async def test_an_ignore_file_written_after_indexing_still_excludes(start_editor, simulator, tmp_path):
    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    editor = await start_editor()
    uri = (tmp_path / "pkg" / "report.py").as_uri()
    editor.open(uri, REPORT_PY, "python")
    await indexed(editor)
    write(tmp_path, ".tierlineignore", "geometry.py\n")

    completion = await editor.complete(uri, *REPORT_CURSOR)

    assert completion.text and "def polygon_area" not in last_prompt(simulator)


async def test_a_secret_in_a_snippet_is_redacted(start_editor, simulator, tmp_path):
    write(
        tmp_path,
        "pkg/geometry.py",
        GEOMETRY_PY.replace("def polygon_area(points):", f'def polygon_area(points, token="{GITHUB_TOKEN}"):'),
    )
    editor = await start_editor()

    completion = await complete_report(editor, tmp_path)

    assert completion.text
    prompt = last_prompt(simulator)
    assert "def polygon_area(points, token=" in prompt
    assert GITHUB_TOKEN not in prompt and f'token="{PLACEHOLDER_PREFIX}' in prompt


async def test_untitled_buffers_and_files_outside_the_workspace_give_no_snippet(
    start_editor, simulator, tmp_path, tmp_path_factory
):
    outside = tmp_path_factory.mktemp("elsewhere") / "geometry.py"
    outside.write_text(GEOMETRY_PY)
    editor = await start_editor()
    editor.open(outside.as_uri(), GEOMETRY_PY, "python")
    editor.open("untitled:Untitled-1", GEOMETRY_PY, "python")

    completion = await complete_report(editor, tmp_path)
    assert completion.text and "def polygon_area" not in last_prompt(simulator)

    # An untitled buffer takes none either: nothing of the workspace goes out with it.
    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    untitled = await start_editor()
    untitled.open("untitled:Untitled-2", REPORT_PY, "python")
    await indexed(untitled)
    completion = await untitled.complete("untitled:Untitled-2", *REPORT_CURSOR)
    assert completion.text and not snippets_sent(simulator)


async def test_an_open_document_lends_its_definitions_and_its_similar_window(start_editor, simulator, tmp_path):
    # shapes.py exists only in the editor (never saved): its text comes from didOpen.
    editor = await start_editor()
    shapes = (tmp_path / "pkg" / "shapes.py").as_uri()
    editor.open(shapes, GEOMETRY_PY, "python")
    table = (tmp_path / "pkg" / "table.py").as_uri()
    similar = "def row_area(points):\n    twice = 0.0\n    for (x1, y1), (x2, y2) in zip(points, points[1:]):\n        "
    editor.open(table, similar, "python")

    completion = await complete_report(editor, tmp_path)

    assert completion.text
    assert snippets_sent(simulator) == {("pkg/shapes.py", "def polygon_area(points):")}  # table.py: not similar
    await editor.complete(table, 3, 8)
    assert ("pkg/shapes.py", '"""Plane geometry helpers."""') in snippets_sent(simulator)


async def test_a_chunk_just_edited_in_another_document_is_offered(start_editor, simulator, tmp_path):
    editor = await start_editor()
    notes = (tmp_path / "pkg" / "notes.py").as_uri()
    editor.open(notes, "import math\n\n\n\n\nVALUE = 1\n", "python")
    uri = (tmp_path / "pkg" / "report.py").as_uri()
    editor.open(uri, REPORT_PY, "python")
    await indexed(editor)
    editor.type_text(notes, 2, 0, "SCALE_FACTOR = 2.54  # inches to centimetres\n")

    explained = await editor.command("tierline.explain", uri, {"line": REPORT_CURSOR[0], "character": 4})

    edits = [s for s in explained["context"] if s["source"] == "recent_edits"]
    assert [(s["path"], s["line"], s["reason"]) for s in edits] == [("pkg/notes.py", 1, "recently edited")]
    completion = await editor.complete(uri, *REPORT_CURSOR)
    assert completion.text and "SCALE_FACTOR = 2.54" in last_prompt(simulator)


def test_score_show_prompt_names_the_snippets_and_why(tmp_path: Path):
    from tests.helpers.cli import config_for, tierline

    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    report = write(tmp_path, "pkg/report.py", REPORT_PY)
    spec = f"{report}:{REPORT_CURSOR[0] + 1}:{REPORT_CURSOR[1] + 1}"

    shown = tierline("score", spec, "--show-prompt", "--json", env=config_for(tmp_path), cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    prompt = json.loads(shown.stdout)["prompt"]
    [snippet] = prompt["context"]
    assert (snippet["path"], snippet["line"], snippet["source"]) == ("pkg/geometry.py", 4, "definitions")
    assert "def polygon_area(points):" in json.dumps(prompt["body"])
    text = tierline("score", spec, "--show-prompt", env=config_for(tmp_path), cwd=tmp_path).stdout
    assert "cross-file snippets: 1," in text
    assert "pkg/geometry.py:4  definitions" in text and "defines polygon_area, imported" in text
