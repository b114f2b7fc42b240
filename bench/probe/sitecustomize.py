"""The desk bench's event-loop probe: observes a Textual app from inside, changes nothing it does.

bench_desk.py puts this directory first on PYTHONPATH and sets LIQTUI_BENCH_PROBE=FILE for the
`liqtui` it launches; Python imports this file at start (``sitecustomize``). Every app run then
gets one extra task that sleeps 20 ms at a time and writes how late each wake-up was:

    <unix time> <lag ms>

A lag is a stall of the event loop: no key, timer or frame could run meanwhile. Without the
variable this file does nothing.
"""

import os

_PATH = os.environ.get("LIQTUI_BENCH_PROBE")

if _PATH:
    import asyncio
    import sys
    import time
    from importlib.machinery import PathFinder

    _PERIOD_S = 0.02
    _LOG = open(_PATH, "a", buffering=1)  # noqa: SIM115 - open for the process's lifetime

    def _install(app_module) -> None:  # type: ignore[no-untyped-def]
        run_async = app_module.App.run_async

        async def probed_run_async(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            async def monitor() -> None:
                while True:
                    start = time.perf_counter()
                    await asyncio.sleep(_PERIOD_S)
                    lag_ms = (time.perf_counter() - start - _PERIOD_S) * 1000
                    _LOG.write(f"{time.time():.4f} {lag_ms:.2f}\n")

            task = asyncio.get_running_loop().create_task(monitor())
            try:
                return await run_async(self, *args, **kwargs)
            finally:
                task.cancel()

        app_module.App.run_async = probed_run_async

    class _WhenTextualLoads:
        """Wraps textual.app once the program itself imports it. Imported here, first, Textual would read
        its settings before the program sets them: the desk's frame clock (TEXTUAL_FPS, set when
        liqtui.ui is imported) read 60 a second under the probe where the desk draws at 120."""

        def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
            if name != "textual.app":
                return None
            sys.meta_path.remove(self)
            spec = PathFinder.find_spec(name, path)
            if spec is not None and spec.loader is not None:
                exec_module = spec.loader.exec_module

                def exec_and_install(module):  # type: ignore[no-untyped-def]
                    exec_module(module)
                    _install(module)

                spec.loader.exec_module = exec_and_install  # type: ignore[method-assign]
            return spec

    sys.meta_path.insert(0, _WhenTextualLoads())
