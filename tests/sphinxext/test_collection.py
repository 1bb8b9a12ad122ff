"""A build collects garbage explicitly, now and then, and leaves the collector as it found it."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest

from mle_handbook.sphinxext import collection


@pytest.fixture
def collections():
    """The generations collected while the test runs."""
    seen = []

    def note(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)
    gc.enable()
    gc.unfreeze()


def test_automatic_collection_is_off_during_a_build_and_back_after_it(collections):
    app = SimpleNamespace(parallel=3)
    collection.pause(app)
    collection.freeze(app, None)
    assert not gc.isenabled()
    garbage = [[] for _ in range(50_000)]  # would trigger dozens of automatic collections
    for item in garbage:
        item.append(item)
    del garbage
    assert collections == []
    collection.resume(app, None)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_one_full_collection_every_so_many_documents(collections):
    app = SimpleNamespace(parallel=3)
    collection.pause(app)
    for _ in range(collection.COLLECT_EVERY * 3 - 1):
        collection.collect_now_and_then(app, "doc", None)
    assert collections == [2, 2]
    collection.resume(app, None)


def test_a_process_that_had_the_collector_off_keeps_it_off(collections):
    gc.disable()
    app = SimpleNamespace(parallel=3)
    collection.pause(app)
    collection.freeze(app, None)
    collection.collect_now_and_then(app, "doc", None)
    collection.resume(app, None)
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_serial_build_keeps_automatic_collection(collections):
    app = SimpleNamespace(parallel=1)
    collection.pause(app)
    collection.freeze(app, None)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    collection.resume(app, None)
    assert gc.isenabled()


def test_collect_and_freeze_frees_garbage_and_leaves_survivors_out_of_later_collections(
    collections,
):
    app = SimpleNamespace(parallel=3)
    collection.pause(app)
    kept = [[] for _ in range(1_000)]
    garbage = [[] for _ in range(1_000)]
    for item in garbage:
        item.append(item)  # a cycle: only the collector frees it
    del garbage
    collection.collect_and_freeze(app)
    assert collections == [2]
    assert gc.get_freeze_count() >= len(kept)
    assert not any(obj is kept for obj in gc.get_objects())  # frozen: not walked again
    collection.resume(app, None)
    assert gc.get_freeze_count() == 0


def test_collect_and_freeze_does_nothing_in_a_serial_build(collections):
    app = SimpleNamespace(parallel=1)
    collection.pause(app)
    collection.collect_and_freeze(app)
    assert collections == []
    assert gc.get_freeze_count() == 0
    collection.resume(app, None)


def test_what_the_builder_loads_before_reading_is_left_out_of_the_readers_collections(
    collections,
):
    app = SimpleNamespace(parallel=3)
    collection.pause(app)
    collection.freeze(app, None)  # config-inited
    frozen = gc.get_freeze_count()
    inventories = [[] for _ in range(1_000)]  # loaded at builder-inited
    collection.freeze(app, SimpleNamespace(), {"index"})  # env-before-read-docs
    # Not an exact count: a thread left by an earlier test may free frozen objects meanwhile.
    assert gc.get_freeze_count() > frozen
    loaded = {id(inventories), *map(id, inventories)}
    assert not any(id(obj) in loaded for obj in gc.get_objects())  # none left in collections
    assert collections == []  # frozen, not collected: no walk of everything on the main process
    collection.resume(app, None)
    assert gc.get_freeze_count() == 0


def test_a_reader_does_not_collect_after_the_last_page_of_its_chunk(collections):
    from sphinx.util.build_phase import BuildPhase

    env = SimpleNamespace(docname="")
    builder = SimpleNamespace(phase=BuildPhase.READING)
    app = SimpleNamespace(parallel=3, env=env, builder=builder, _mle_chunk_ends={"last"})
    collection.pause(app)
    for n in range(1, collection.COLLECT_EVERY * 2 + 1):
        env.docname = "last" if n == collection.COLLECT_EVERY * 2 else f"page{n}"
        collection.collect_now_and_then(app, None)
    assert collections == [2]  # after page 20; not after "last", which ends the process
    builder.phase = BuildPhase.RESOLVING  # the main process resolving for the writers
    for _ in range(collection.COLLECT_EVERY):
        collection.collect_now_and_then(app, None, "last")
    assert collections == [2, 2]
    collection.resume(app, None)


def test_a_process_that_ends_with_the_build_skips_putting_the_collector_back(monkeypatch):
    from mle_handbook import sphinx_build

    app = SimpleNamespace(parallel=3)
    collection.pause(app)
    collection.freeze(app, None)
    frozen = gc.get_freeze_count()
    monkeypatch.setattr(sphinx_build, "exits_after_build", True)
    collection.resume(app, None)
    # Left frozen, the process ends (not an exact count: a thread left by an earlier test may
    # free a frozen object meanwhile; unfreezing would leave none).
    assert not gc.isenabled() and gc.get_freeze_count() > frozen // 2
    monkeypatch.setattr(sphinx_build, "exits_after_build", False)
    collection.resume(app, None)
    assert gc.isenabled() and gc.get_freeze_count() == 0
