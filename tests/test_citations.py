"""SPEC §1 and §3.1 Citations: annotations become ``citation`` items, after the text they cite."""

import json
from typing import Any

import pytest
from rxresponses import Citation, Error, PartStart, Text

from tests.helpers import FIXTURES, as_json, check_invariants, of_type, run_items
from tests.wire import Event, completed, run_events, text_delta, types


def annotation_added(annotation: Any, output_index: int | None = 0) -> Event:
    event: dict[str, Any] = {
        "type": "response.output_text.annotation.added",
        "item_id": "msg_1",
        "content_index": 0,
        "annotation_index": 0,
        "annotation": annotation,
    }
    if output_index is not None:
        event["output_index"] = output_index
    return event


def citations(items: list[Any]) -> list[Citation]:
    return [item for item in items if isinstance(item, Citation)]


@pytest.mark.parametrize(
    ("annotation", "citation"),
    [
        (
            {
                "type": "url_citation",
                "url": "https://example.com/a",
                "title": "A",
                "start_index": 3,
                "end_index": 9,
            },
            Citation(url="https://example.com/a", title="A", start=3, end=9),
        ),
        (
            {"type": "file_citation", "file_id": "file-1", "filename": "a.pdf", "index": 12},
            Citation(file_id="file-1", filename="a.pdf", start=12, end=12),
        ),
        (
            {
                "type": "container_file_citation",
                "file_id": "cfile_1",
                "filename": "out.csv",
                "container_id": "cntr_1",
                "start_index": 0,
                "end_index": 4,
            },
            Citation(file_id="cfile_1", filename="out.csv", container_id="cntr_1", start=0, end=4),
        ),
        (
            {"type": "file_path", "file_id": "file-2", "index": 7},
            Citation(file_id="file-2", start=7, end=7),
        ),
        (
            {"type": "url_citation", "url": "https://example.com/b"},
            Citation(url="https://example.com/b"),
        ),
    ],
)
def test_each_annotation_type_gives_its_citation_after_the_text(
    annotation: dict[str, Any], citation: Citation
) -> None:
    items = run_events([text_delta("cited text"), annotation_added(annotation), completed()])

    assert items[1:4] == [PartStart("text", 0), Text("cited text"), citation]


@pytest.mark.parametrize(
    "annotation",
    [
        None,
        {"type": "some_new_annotation", "url": "https://example.com"},
        {"type": "some_new_annotation", "url": 5},  # another type's fields are nobody's business
        {"no_type": True},
    ],
)
def test_null_and_other_annotations_give_nothing(annotation: Any) -> None:
    items = run_events([text_delta("a"), annotation_added(annotation), completed()])

    assert types(items) == ["start", "part_start", "text", "done"]


@pytest.mark.parametrize(
    "annotation",
    [
        {"type": "url_citation", "title": "no url"},
        {"type": "file_citation", "filename": "no id"},
        {"type": "url_citation", "url": 5},
        {"type": "file_path", "file_id": "f", "index": "7"},
        "not an object",
    ],
)
def test_a_broken_citation_is_a_decode_error_and_the_stream_goes_on(annotation: Any) -> None:
    items = run_events([annotation_added(annotation), text_delta("after"), completed()])

    assert types(items) == ["start", "error", "part_start", "text", "done"]
    assert [item.kind for item in items if isinstance(item, Error)] == ["decode_error"]


def test_a_citation_does_not_end_the_part_it_cites() -> None:
    url = {"type": "url_citation", "url": "https://example.com"}
    events = [text_delta("a"), annotation_added(url), text_delta("b"), completed()]

    assert types(run_events(events)) == ["start", "part_start", "text", "citation", "text", "done"]


# ---- whole messages (output_item.done without deltas) ---------------------------


def message_done(annotations: list[Any], index: int | None = 0) -> Event:
    part = {"type": "output_text", "text": "See [1].", "annotations": annotations}
    event: dict[str, Any] = {
        "type": "response.output_item.done",
        "item": {"type": "message", "id": "msg_1", "content": [part]},
    }
    if index is not None:
        event["output_index"] = index
    return event


URL = {"type": "url_citation", "url": "https://example.com", "start_index": 4, "end_index": 7}
FILE = {"type": "file_path", "file_id": "file-9", "index": 2}


def test_a_whole_message_gives_its_annotations_as_citations_after_each_part() -> None:
    second = {"type": "output_text", "text": "More.", "annotations": [FILE]}
    done = message_done([URL, {"type": "other"}])
    done["item"]["content"].append(second)

    assert run_events([done, completed()])[1:7] == [
        PartStart("text", 0, "msg_1"),
        Text("See [1]."),
        Citation(url="https://example.com", start=4, end=7),
        PartStart("text", 0, "msg_1"),
        Text("More."),
        Citation(file_id="file-9", start=2, end=2),
    ]


def test_a_whole_message_gives_no_citations_when_annotation_added_came_for_its_index() -> None:
    events = [annotation_added(URL, 0), message_done([URL, FILE], 0), completed()]

    assert citations(run_events(events)) == [Citation(url="https://example.com", start=4, end=7)]


def test_annotation_added_for_another_index_does_not_hold_back_a_whole_message() -> None:
    events = [annotation_added(URL, 1), message_done([FILE], 0), completed()]

    assert len(citations(run_events(events))) == 2


def test_a_whole_messages_broken_annotation_gives_only_the_events_error() -> None:
    items = run_events([message_done([URL, {"type": "url_citation"}]), completed()])

    assert types(items) == ["start", "error", "done"]


def test_a_whole_messages_annotations_are_not_read_when_deltas_gave_its_text() -> None:
    items = run_events([text_delta("See [1]."), message_done([{"type": "url_citation"}])])

    assert "citation" not in types(items)
    assert [item.kind for item in items if isinstance(item, Error)] == ["stream_interrupted"]


# ---- a recording -----------------------------------------------------------------


def test_the_web_search_recording_gives_its_twelve_url_citations_after_the_text() -> None:
    path = FIXTURES / "vercel_ai/openai-web-search-tool.1.chunks.txt"
    items = as_json(run_items(path.read_bytes(), format="jsonl"))
    check_invariants(items)
    recorded = [
        event["annotation"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
        for event in [json.loads(line)]
        if event["type"] == "response.output_text.annotation.added"
    ]

    found = of_type(items, "citation")
    assert len(found) == len(recorded) == 12
    for citation, annotation in zip(found, recorded, strict=True):
        assert annotation["type"] == "url_citation"
        assert (citation["url"], citation["title"]) == (annotation["url"], annotation["title"])
        assert (citation["start"], citation["end"]) == (
            annotation["start_index"],
            annotation["end_index"],
        )
    text_before_first = [i for i in items[: items.index(found[0])] if i["type"] == "text"]
    assert text_before_first
