"""The response cache never unpickles and never touches a file outside its directory.

Rows are planted the three ways an attacker could: through diskcache's own API (a pickled value),
through raw SQL on `cache.db`, and as a row whose `filename` climbs out of the cache directory.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import diskcache

from tests.helpers.lsp import SIMPLE_CURSOR, completion_requests, open_doc
from tierline.accounting.cache import AnswerCache, CachedAnswer
from tierline.commands.demo import SIMPLE_PY


class Payload:
    """Unpickling this writes a marker file: the proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "payload ran"))


def plant_pickle_via_api(directory: Path, key: str, marker: Path) -> None:
    with diskcache.Cache(str(directory)) as planted:  # diskcache's default Disk: pickles
        planted.set(key, Payload(marker))


def plant_pickle_via_sql(directory: Path, marker: Path) -> int:
    """Every row becomes a pickle (mode 4) with the payload inline; returns how many rows."""
    with sqlite3.connect(directory / "cache.db") as db:
        blob = pickle.dumps(Payload(marker))
        return db.execute("UPDATE Cache SET mode = 4, value = ?", (sqlite3.Binary(blob),)).rowcount


def plant_climbing_row(directory: Path, key: str, victim: Path) -> None:
    relative = os.path.relpath(victim, directory)
    assert relative.startswith("..")
    with sqlite3.connect(directory / "cache.db") as db:
        db.execute(
            "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size, mode,"
            " filename, value) VALUES (?, 1, 0, NULL, 0, 0, NULL, 0, 2, ?, NULL)",
            (key, relative),
        )


ANSWER = CachedAnswer("return a + b", "m", "cheap", 10, 3, 0.001)


def test_a_pickled_value_planted_through_diskcache_is_a_miss_and_is_deleted(tmp_path: Path):
    directory, marker = tmp_path / "cache", tmp_path / "marker"
    cache = AnswerCache(directory, 300, 16)
    cache.put("good", ANSWER)
    cache.close()
    plant_pickle_via_api(directory, "evil", marker)

    cache = AnswerCache(directory, 300, 16)
    assert cache.get("evil") is None
    assert cache.get("good") == ANSWER
    cache.close()

    assert not marker.exists()
    with sqlite3.connect(directory / "cache.db") as db:
        keys = [k for (k,) in db.execute("SELECT key FROM Cache")]
    assert keys == ["good"]


def test_a_pickle_planted_by_raw_sql_is_a_miss(tmp_path: Path):
    directory, marker = tmp_path / "cache", tmp_path / "marker"
    cache = AnswerCache(directory, 300, 16)
    cache.put("k", ANSWER)
    cache.close()
    assert plant_pickle_via_sql(directory, marker) == 1

    cache = AnswerCache(directory, 300, 16)
    assert cache.get("k") is None
    assert cache.get("k") is None
    cache.close()
    assert not marker.exists()


def test_non_text_values_are_refused_at_write(tmp_path: Path):
    cache = AnswerCache(tmp_path / "cache", 300, 16)
    disk = cache._disk()
    try:
        disk.set("k", {"a": 1})
    except TypeError:
        pass
    else:  # pragma: no cover - the point of the test
        raise AssertionError("a dict was stored: it would have been pickled")
    finally:
        cache.close()


def test_clear_never_deletes_outside_the_cache_directory(tmp_path: Path):
    directory = tmp_path / "cache"
    victim = tmp_path / "elsewhere" / "important.txt"
    victim.parent.mkdir()
    victim.write_text("keep me")
    cache = AnswerCache(directory, 300, 16)
    cache.put("k", ANSWER)
    cache.close()
    plant_climbing_row(directory, "climber", victim)
    plant_climbing_row(directory, "absolute", victim)

    cache = AnswerCache(directory, 300, 16)
    assert cache.get("climber") is None  # never read either
    assert cache.clear() >= 1
    cache.close()

    assert victim.read_text() == "keep me"
    assert victim.parent.is_dir()


async def test_planted_rows_run_nothing_and_completions_still_arrive(start_editor, simulator, tmp_path: Path):
    """End to end: the server's own cache directory is poisoned between two identical requests."""
    directory = tmp_path / "cache"  # the cache dir of the test config
    marker = tmp_path / "marker"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    first = await editor.complete(uri, *SIMPLE_CURSOR)
    assert first.text and first.route["cached"] is False

    assert plant_pickle_via_sql(directory, marker) >= 1
    plant_pickle_via_api(directory, "planted", marker)
    plant_climbing_row(directory, "climber", victim)

    second = await editor.complete(uri, *SIMPLE_CURSOR)
    assert second.text and second.route["cached"] is False  # a miss: the model answered again
    assert len(completion_requests(simulator)) == 2
    third = await editor.complete(uri, *SIMPLE_CURSOR)
    assert third.route["cached"] is True  # the fresh answer replaced the planted row

    cleared = await editor.command("tierline.clearCache")
    assert cleared["cleared"] >= 1
    assert not marker.exists()
    assert victim.read_text() == "keep me"
