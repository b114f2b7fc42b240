"""``domain.imports.import_frozen``: a heavy module (numpy, ccxt) imported beside the desk's loop with
the collector off meanwhile and its objects frozen after: a collector's pass in the importing thread
held the interpreter 16-78 ms, stalls of the loop of 60-160 ms after a live desk's history was in."""

from __future__ import annotations

import gc
import sys

import pytest

from liqtui.domain.imports import import_frozen


def test_a_module_is_imported_with_the_collector_off_and_frozen_after(tmp_path, monkeypatch):
    (tmp_path / "liqtui_heavy_probe.py").write_text("import gc\nCOLLECTOR_ON = gc.isenabled()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    gc.unfreeze()
    assert gc.isenabled()
    try:
        import_frozen("liqtui_heavy_probe")
        module = sys.modules["liqtui_heavy_probe"]
        assert module.COLLECTOR_ON is False  # off while its code ran
        assert gc.isenabled()  # and on again after
        frozen = gc.get_freeze_count()
        assert frozen > 0
        import_frozen("liqtui_heavy_probe")  # imported already: left as it is, nothing frozen again
        assert gc.get_freeze_count() <= frozen  # (a frozen object freed meanwhile leaves the count)
    finally:
        sys.modules.pop("liqtui_heavy_probe", None)
        gc.unfreeze()


def test_a_failed_import_still_turns_the_collector_back_on(tmp_path, monkeypatch):
    (tmp_path / "liqtui_broken_probe.py").write_text("raise ImportError('no such thing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ImportError, match="no such thing"):
            import_frozen("liqtui_broken_probe")
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_package_s_names_come_from_their_modules_at_first_use_and_an_unknown_one_is_refused():
    import liqtui.engine
    import liqtui.storage
    from liqtui.engine.engine import Engine
    from liqtui.storage.schema import StoreError

    assert liqtui.engine.Engine is Engine and liqtui.storage.StoreError is StoreError
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        liqtui.storage.Nothing  # noqa: B018 - the attribute's read is the test
