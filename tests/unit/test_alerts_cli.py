"""`liqtui alerts --replay` through the real CLI on a recording of the seeded demo: every kind fires
with exactly the fields of docs/alerts.md, rules that must stay quiet do, a cascade is one alert with updates,
and --exec passes each field literally, never through a shell."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from liqtui.cli import main
from liqtui.config import Settings
from liqtui.domain.events import Liquidation
from liqtui.feeds.demo import DemoMarket
from liqtui.storage.reader import read_events
from liqtui.storage.recorder import Recorder

FIELDS = {"time", "rule", "kind", "venue", "symbol", "side", "usd", "price", "count", "text"}
NASTY = "big; $(touch pwned) `id` \"q\" 'x' * ~ > out"

RULES = f"""
[[alerts.rules]]
kind = "liquidation"
min_usd = 150000
name = {json.dumps(NASTY)}
[[alerts.rules]]
kind = "burst"
min_usd = 1000000
[[alerts.rules]]
kind = "cascade"
window = 10
[[alerts.rules]]
kind = "cluster_near"
min_usd = 5e6
pct = 0.3
[[alerts.rules]]
kind = "cluster_swept"
min_usd = 1e6
[[alerts.rules]]
kind = "oi_change"
pct = 0.5
scope = "total"
[[alerts.rules]]
kind = "funding"
rate = 0.03
"""

QUIET = """
[[alerts.rules]]
kind = "liquidation"
min_usd = 5e6
[[alerts.rules]]
kind = "burst"
min_usd = 5e7
[[alerts.rules]]
kind = "cascade"
window = 10
k = 20
[[alerts.rules]]
kind = "cluster_near"
min_usd = 1e9
[[alerts.rules]]
kind = "cluster_swept"
min_usd = 1e9
[[alerts.rules]]
kind = "oi_change"
pct = 20
[[alerts.rules]]
kind = "funding"
rate = 1
"""


# One worker runs this module (pytest-xdist, --dist loadgroup): its module-scoped recording is
# built once, not once per worker.
pytestmark = pytest.mark.xdist_group("alerts_cli")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """Seven minutes of the busy demo (seed 5) after an hour of backfill, through the real recorder."""
    path = tmp_path_factory.mktemp("alerts") / "session.sqlite"
    market = DemoMarket(Settings(), seed=5, rate="busy", backfill_hours=1)
    recorder = Recorder(path, background=False, source_mode="DEMO")
    for event in [*market.start_events(), *market.advance_to(market.now_ms + 420_000)]:
        recorder.add(event)
    recorder.close()
    return path


def _first_big(recording, min_usd: float = 150_000) -> Liquidation:
    """The recording's first liquidation of at least ``min_usd``, read from the file (not from the rules)."""
    return next(e for e in read_events(recording) if isinstance(e, Liquidation) and e.usd >= min_usd)


def _said(liq: Liquidation) -> tuple[str, str]:
    """How an alert's text starts and ends for a liquidation: 'SOL long liquidated $', ' on okx'."""
    return f"{liq.symbol.split('/')[0]} {liq.side.value} liquidated $", f" on {liq.venue}"


def _config(tmp_path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def _replay(capsys, config, recording, *extra: str) -> tuple[int, list[str], str]:
    code = main(["--config", str(config), "alerts", "--replay", str(recording), *extra])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_every_kind_fires_with_exactly_the_documented_fields(tmp_path, capsys, recording):
    code, lines, err = _replay(capsys, _config(tmp_path, RULES), recording, "--json")
    assert code == 0 and "Traceback" not in err
    alerts = [json.loads(line) for line in lines]
    kinds = {a["kind"] for a in alerts}
    assert kinds == {
        "liquidation",
        "burst",
        "cascade",
        "cluster_near",
        "cluster_swept",
        "oi_change",
        "funding",
    }
    for a in alerts:
        assert set(a) == FIELDS | ({"update"} if a.get("update") else set()), a
    first_big = next(a for a in alerts if a["kind"] == "liquidation")
    liq = _first_big(recording)
    assert first_big == {
        "time": liq.time,
        "rule": NASTY,
        "kind": "liquidation",
        "venue": liq.venue,
        "symbol": liq.symbol,
        "side": liq.side.value,
        "usd": liq.usd,
        "price": liq.price,
        "count": 1,
        "text": first_big["text"],
    }
    start, end = _said(liq)
    assert first_big["text"].startswith(start) and first_big["text"].endswith(end)
    swept = next(a for a in alerts if a["kind"] == "cluster_swept")
    assert swept["text"].startswith(
        "ETH swept an ESTIMATED $1.5M long cluster 2,702.7-2,704.4 on binanceusdm; tape realized $"
    )
    # an update repeats its alert's rule, symbol and first time, and comes after it
    for i, a in enumerate(alerts):
        if a.get("update"):
            assert any(
                b["rule"] == a["rule"]
                and b["time"] == a["time"]
                and b["symbol"] == a["symbol"]
                and not b.get("update")
                for b in alerts[:i]
            )


def test_a_cascade_is_one_alert_then_updates(tmp_path, capsys, recording):
    _code, lines, _err = _replay(capsys, _config(tmp_path, RULES), recording, "--json")
    cascade = [json.loads(line) for line in lines if '"kind": "cascade"' in line]
    opened = [a for a in cascade if not a.get("update")]
    assert len(opened) == 1 and len(cascade) >= 2
    assert opened[0]["text"].startswith("ETH cascade: price -0.1 % in 10s (")
    assert opened[0]["side"] == "long" and "100 % longs" in opened[0]["text"]
    assert all(u["time"] == opened[0]["time"] and u["count"] > opened[0]["count"] for u in cascade[1:])
    assert all(u["update"] is True for u in cascade[1:])  # JSON true, said on every update


def test_rules_above_what_happened_stay_quiet(tmp_path, capsys, recording):
    code, lines, err = _replay(capsys, _config(tmp_path, QUIET), recording, "--json")
    assert code == 0 and lines == [] and "liqtui: 0 alerts" in err


def test_the_text_form_says_alert_or_update_with_the_rule(tmp_path, capsys, recording):
    code, lines, _err = _replay(capsys, _config(tmp_path, RULES), recording)
    assert code == 0
    assert f"12:01:34  ALERT   SOL long liquidated $158k at 115.83 on okx  [{NASTY}]" in lines
    assert any("  update  BTC burst: $" in line and "of longs liquidated so far" in line for line in lines)


def test_exec_gets_every_field_literally_as_arguments_and_environment(tmp_path, capsys, recording):
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "hook.py"
    script.write_text(
        textwrap.dedent(f"""
        import json, os, sys
        env = {{k: v for k, v in os.environ.items() if k.startswith("LIQTUI_ALERT_")}}
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps({{"argv": sys.argv[1:], "env": env}}) + "\\n")
    """)
    )
    only_big = f'[[alerts.rules]]\nkind = "liquidation"\nmin_usd = 150000\ncooldown = 0\nname = {json.dumps(NASTY)}\n'
    command = f"{sys.executable} {script} 'two words' \"it's\" '$HOME;|&<>'"
    code, lines, err = _replay(capsys, _config(tmp_path, only_big), recording, "--json", "--exec", command)
    assert code == 0 and "failed" not in err
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(calls) == len(lines) >= 2
    first = json.loads(lines[0])
    call = next(c for c in calls if c["env"]["LIQTUI_ALERT_TIME"] == str(first["time"]))
    liq = _first_big(recording)
    assert call["argv"] == [
        "two words",
        "it's",
        "$HOME;|&<>",
        str(liq.time),
        NASTY,
        "liquidation",
        liq.venue,
        liq.symbol,
        liq.side.value,
        json.dumps(liq.usd),
        json.dumps(liq.price),
        "1",
        first["text"],
        "false",
    ]
    assert first["text"].startswith(_said(liq)[0]) and first["text"].endswith(_said(liq)[1])
    assert call["env"]["LIQTUI_ALERT_RULE"] == NASTY and call["env"]["LIQTUI_ALERT_VENUE"] == liq.venue
    assert json.loads(call["env"]["LIQTUI_ALERT_JSON"]) == first
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "rules, argv, words",
    [
        (
            '[[alerts.rules]]\nkind = "burst"\nsymbols = ["DOGE"]\n',
            [],
            ["alerts.rules", "no market trades 'DOGE'", "BTC"],
        ),
        ('[[alerts.rules]]\nkind = "burst"\nenabled = false\n', [], ["no alert rule is enabled"]),
        (
            '[[alerts.rules]]\nkind = "burst"\n',
            ["--exec", "no-such-command-here --x"],
            ["--exec", "no-such-command-here"],
        ),
        ('[[alerts.rules]]\nkind = "burst"\n', ["--exec", "echo 'unclosed"], ["--exec", "quotation"]),
        ('[[alerts.rules]]\nkind = "burst"\n', ["--seed", "3"], ["--seed and --rate apply to --demo only"]),
    ],
)
def test_bad_usage_is_one_message_and_exit_2(tmp_path, capsys, recording, rules, argv, words):
    code, lines, err = _replay(capsys, _config(tmp_path, rules), recording, *argv)
    assert code == 2 and lines == [] and err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_a_missing_recording_is_one_message(tmp_path, capsys):
    code, _lines, err = _replay(capsys, _config(tmp_path, RULES), tmp_path / "nope.sqlite")
    assert code == 2 and "nope.sqlite" in err and "Traceback" not in err


def _on_a_terminal(config, recording, env_extra: dict) -> bytes:
    """`liqtui alerts --replay` in a subprocess whose stdout is a pseudo-terminal; what it wrote there."""
    import os
    import pty
    import subprocess

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": ":".join(sys.path), **env_extra}
    env.pop("TMUX", None) if "TMUX" not in env_extra else None
    child = subprocess.Popen(
        [sys.executable, "-m", "liqtui", "--config", str(config), "alerts", "--replay", str(recording)],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    child.wait()
    os.close(leader)
    return out


ONE_BIG = '[[alerts.rules]]\nkind = "liquidation"\nmin_usd = 200000\nname = "big"\n'


@pytest.mark.parametrize("tmux", [False, True])
def test_the_bell_and_osc_notifications_follow_each_alert_on_the_terminal(tmp_path, recording, tmux):
    config = _config(tmp_path, "[alerts]\nbell = true\nosc9 = true\nosc777 = true\nosc99 = true\n" + ONE_BIG)
    out = _on_a_terminal(config, recording, {"TMUX": "/tmp/tmux-0/default,1,0"} if tmux else {})
    text = "BTC short liquidated $245k at 83,216 on okx"
    osc = [  # a back-test's notices say REPLAY: no desktop shows old news as news
        f"\x1b]9;liqtui REPLAY: {text}\x07",
        f"\x1b]777;notify;liqtui REPLAY;{text}\x07",
        f"\x1b]99;;liqtui REPLAY: {text}\x1b\\",
    ]
    if tmux:
        osc = ["\x1bPtmux;" + s.replace("\x1b", "\x1b\x1b") + "\x1b\\" for s in osc]
    line = f"  ALERT   {text}  [big]\r\n"
    assert out.decode().endswith(line + "".join(osc) + "\x07"), out[-400:]


def test_notifications_are_off_by_default(tmp_path, recording):
    out = _on_a_terminal(_config(tmp_path, ONE_BIG), recording, {})
    assert b"ALERT" in out and b"\x1b" not in out and b"\x07" not in out


def test_a_back_test_runs_the_rules_again_and_says_what_the_file_holds_said_live(tmp_path, capsys, recording):
    import shutil

    from liqtui.domain.alerts import Alert
    from liqtui.domain.events import Side

    copy = tmp_path / "with-alerts.sqlite"
    shutil.copy(recording, copy)
    liq = _first_big(recording)
    with Recorder(copy, background=False, source_mode="DEMO") as recorder:
        recorder.add(
            Alert(
                liq.time,
                "live rule",
                "liquidation",
                liq.venue,
                liq.symbol,
                Side.LONG,
                1.0,
                1.0,
                1,
                "said",
                at=liq.time,
            )
        )
        recorder.flush()
    code, lines, err = _replay(capsys, _config(tmp_path, ONE_BIG), copy)
    assert code == 0 and "it holds 1 alert said live (`liqtui replay` shows those)" in err
    assert lines and all("[big]" in line for line in lines)  # the config's rule, not the recorded one
