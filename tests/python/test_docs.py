"""The documentation runs: every Python example in README.md and docs/*.md, as written.

A reader pastes the fenced ``python`` blocks of one file, in order, into one interpreter started in
the repository root (so relative paths to the bundled data work); so does this test: one namespace
per file, its blocks in order, one test per block (``test_block[README.md-2]`` is the README's third
block; a failure names the block's first line). A block of ``>>>`` lines runs as a doctest in the
same namespace. A block that is not meant to run is fenced ``python no-run: <reason>``; keep that
exceptional (none today).

Blocks that need an exchange start the local simulator themselves (``liqcore.sim``, loopback
only). test_sim's autouse guard refuses a lookup or connection that would leave the machine and
fails the test (it patches the ``socket`` module: uvloop's own sockets, which ``liqcore.feed.run``
uses, do not pass through it, so that part rests on the blocks attaching every exchange to the
simulator). A block also fails when it leaves a new file in the repository root, or runs longer
than ``BLOCK_SECONDS``. Warnings are errors here as everywhere in the suite (pyproject.toml), so a
block that leaves a socket or a session open fails too.
"""

from __future__ import annotations

import asyncio
import doctest
import os
import re
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from redis_server import redis_server
from netguard import no_internet  # noqa: F401  (the autouse no-internet guard)

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: the longest a block may run, seconds (the slowest, a live feed on the simulator, takes about 3)
BLOCK_SECONDS = 120

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
#: the first line of a code block written in Python (what must be fenced ``python`` to be run)
_PYTHON_START = re.compile(r"^(>>> |from \S+ import |import \S|async def |def |class |await |async with )")


@dataclass(frozen=True)
class Block:
    """One code block of a Markdown file: its language and the rest of its info string, its first
    line of code (1-based), and its text."""

    path: Path
    index: int
    line: int
    lang: str
    info: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}-{self.index}"

    @property
    def doctest(self) -> bool:
        return self.code.lstrip().startswith(">>>")


def code_blocks(path: Path) -> list[Block]:
    """Every fenced and indented code block of a Markdown file, in order. O(file size)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    prev_blank = True
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m:
            fence, info = m["fence"], m["info"].strip()
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                          and not lines[j].strip().strip(fence[0])):
                body.append(lines[j][len(m["indent"]):] if lines[j].startswith(m["indent"]) else lines[j])
                j += 1
            lang, _, rest = info.partition(" ")
            out.append(Block(path, len(out), i + 2, lang, rest.strip(), "\n".join(body) + "\n"))
            i, prev_blank = j + 1, False
            continue
        if prev_blank and lines[i].startswith("    ") and lines[i].strip():
            # an indented code block: after a blank line, every line indented by four spaces
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            body = [ln[4:] for ln in lines[i:j]]
            out.append(Block(path, len(out), i + 1, "", "indented", "\n".join(body).rstrip() + "\n"))
            i, prev_blank = j, True
            continue
        prev_blank = not lines[i].strip()
        i += 1
    return out


def python_blocks(path: Path) -> list[Block]:
    """The ``python`` blocks of a Markdown file, numbered from 0 in order."""
    return [replace(b, index=i) for i, b in enumerate(b for b in code_blocks(path) if b.lang == "python")]


# ------------------------------------------------------------------ how a block runs

class BlockTimeout(BaseException):
    """A block ran past its time limit (a BaseException, so that the block's own
    ``except Exception`` cannot swallow it)."""


_alarm = {"fired": False}


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _on_alarm(signum: int, frame: Any) -> None:
    """Stop an overrunning block. Inside an event loop an exception raised here would only be
    logged by uvloop (``liqcore.feed.run``), so the loop's tasks are cancelled instead, through
    the loop's wake-up pipe (it may be asleep in its selector); the timer repeats, in case the
    block goes on."""
    _alarm["fired"] = True
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise BlockTimeout("time limit") from None
    loop.call_soon_threadsafe(_cancel_all, loop)


def run_block(block: Block, namespace: dict[str, Any], seconds: float = BLOCK_SECONDS) -> None:
    """Run one block in ``namespace`` from the repository root, at most ``seconds`` long. Raises
    what the block raises, BlockTimeout, or AssertionError for a doctest mismatch or a file left
    in the repository root."""
    before = set(os.listdir(ROOT))
    cwd = os.getcwd()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    os.chdir(ROOT)
    _alarm["fired"] = False
    signal.setitimer(signal.ITIMER_REAL, seconds, 1)
    late = f"{block.name} ran longer than {seconds} s"
    try:
        if block.doctest:
            test = doctest.DocTestParser().get_doctest(block.code, namespace, block.name, str(block.path),
                                                       block.line - 1)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            out: list[str] = []
            runner.run(test, out=out.append, clear_globs=False)
            assert not runner.failures, "".join(out)
        else:
            # padded so that tracebacks give the line numbers of the Markdown file
            exec(compile("\n" * (block.line - 1) + block.code, str(block.path), "exec"), namespace)
    except BaseException as exc:
        if _alarm["fired"]:
            raise BlockTimeout(late) from exc
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        os.chdir(cwd)
    if _alarm["fired"]:            # the block swallowed the cancellation and finished anyway
        raise BlockTimeout(late)
    left = sorted(set(os.listdir(ROOT)) - before)
    assert not left, f"{block.name} left {left} in the repository root; write to a temporary directory"


@dataclass
class FileRun:
    """The blocks of one file run so far, in one namespace, with each one's outcome."""

    blocks: list[Block]
    seconds: float = BLOCK_SECONDS
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__main__"})
    outcomes: list[Exception | BlockTimeout | None] = field(default_factory=list)

    def run_through(self, index: int) -> Exception | BlockTimeout | None:
        """Run the blocks up to ``index`` not run yet (as a reader who pasted the earlier ones);
        return ``index``'s exception, if it raised."""
        while len(self.outcomes) <= index:
            block = self.blocks[len(self.outcomes)]
            if block.info.startswith("no-run"):
                self.outcomes.append(None)
                continue
            try:
                run_block(block, self.namespace, self.seconds)
                self.outcomes.append(None)
            except (Exception, BlockTimeout) as exc:  # reported by the block's own test
                self.outcomes.append(exc)
        return self.outcomes[index]


_RUNS: dict[Path, FileRun] = {}
_ALL = [b for p in DOC_FILES for b in python_blocks(p)]


@pytest.mark.parametrize("block", _ALL, ids=[b.name for b in _ALL])
def test_block(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    if "LIQCORE_REDIS_URL" in block.path.read_text(encoding="utf-8"):
        # the file's examples take their Redis from there: the suite's private server
        monkeypatch.setenv("LIQCORE_REDIS_URL", redis_server().url())
    if block.info.startswith("no-run"):
        reason = block.info[len("no-run"):].lstrip(": ").strip()
        assert reason, f"{block.name}: a no-run block must say why (```python no-run: <reason>)"
        pytest.skip(f"{block.name} (line {block.line}) is not meant to run: {reason}")
    run = _RUNS.setdefault(block.path, FileRun(python_blocks(block.path)))
    exc = run.run_through(block.index)
    if exc is not None:
        earlier = [b.name for b, e in zip(run.blocks, run.outcomes) if e is not None and b.index < block.index]
        note = f" (earlier blocks failed too: {earlier})" if earlier else ""
        raise AssertionError(f"{block.name}, {block.path.name} line {block.line}, raised{note}") from exc


def test_every_python_example_is_a_python_block() -> None:
    """An example written in Python but fenced without ``python`` (or indented) would escape the test."""
    loose = [f"{b.path.relative_to(ROOT)} line {b.line}" for p in DOC_FILES for b in code_blocks(p)
             if b.lang != "python" and _PYTHON_START.match(b.code.lstrip())]
    assert not loose, f"fence these as ```python (or ```python no-run: <reason>): {loose}"


def test_the_docs_have_examples() -> None:
    """The extraction finds the blocks (a broken parser would make every other test vanish)."""
    names = [b.name for b in _ALL]
    assert sum(n.startswith("README.md-") for n in names) >= 4, names
    assert any(n.startswith("docs/") for n in names), names


# ------------------------------------------------------------------ the harness itself can fail

def _doc(tmp_path: Path, text: str) -> list[Block]:
    path = ROOT / "docs" / "x.md"     # only its name is used: the blocks come from `text`
    f = tmp_path / "x.md"
    f.write_text(text, encoding="utf-8")
    return [replace(b, path=path) for b in python_blocks(f)]


def test_a_raising_block_fails(tmp_path: Path) -> None:
    blocks = _doc(tmp_path, "text\n\n```python\nx = 1\n```\n\n```python\nassert x == 2, 'x is 1'\n```\n")
    run = FileRun(blocks)
    assert run.run_through(0) is None
    exc = run.run_through(1)
    assert isinstance(exc, AssertionError) and "x is 1" in str(exc)
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    assert tb is not None and tb.tb_lineno == 8         # the line in the Markdown file


def test_a_doctest_mismatch_fails(tmp_path: Path) -> None:
    blocks = _doc(tmp_path, "```python\n>>> 1 + 1\n3\n```\n")
    exc = FileRun(blocks).run_through(0)
    assert isinstance(exc, AssertionError) and "Expected:" in str(exc)
    ok = _doc(tmp_path, "```python\n>>> 1 + 1\n2\n```\n")
    assert FileRun(ok).run_through(0) is None


def test_a_block_reaching_the_network_fails(tmp_path: Path, no_internet: list[object]) -> None:
    # 192.0.2.1 is TEST-NET-1 (documentation only); the guard refuses before any packet leaves
    blocks = _doc(tmp_path, "```python\nimport socket\nsocket.create_connection(('192.0.2.1', 80), timeout=0.2)\n```\n")
    exc = FileRun(blocks).run_through(0)
    assert isinstance(exc, OSError) and "test guard" in str(exc)
    assert no_internet == ["192.0.2.1"]      # fails the test at teardown (here cleared: expected)
    no_internet.clear()


@pytest.mark.parametrize("code", ["while True:\n    pass\n",
                                  "import asyncio\nasyncio.run(asyncio.sleep(60))\n",
                                  "import asyncio\nfrom liqcore.feed import run\nrun(asyncio.sleep(60))\n"],
                         ids=["python", "asyncio", "uvloop"])
def test_an_endless_block_is_stopped(tmp_path: Path, code: str) -> None:
    exc = FileRun(_doc(tmp_path, f"```python\n{code}```\n"), seconds=0.3).run_through(0)
    assert isinstance(exc, BlockTimeout) and "ran longer than 0.3 s" in str(exc)


def test_a_block_leaving_a_file_in_the_repository_fails(tmp_path: Path) -> None:
    name = "test_docs_leftover.tmp"
    blocks = _doc(tmp_path, f"```python\nopen({name!r}, 'w').close()\n```\n")
    try:
        exc = FileRun(blocks).run_through(0)
    finally:
        (ROOT / name).unlink(missing_ok=True)
    assert isinstance(exc, AssertionError) and name in str(exc)


def test_unfenced_python_is_found(tmp_path: Path) -> None:
    f = tmp_path / "x.md"
    f.write_text("Replay:\n\n    from liqcore.replay import replay\n    replay(['a'])\n\n```\nimport os\n```\n"
                 "\n```sh\n$ liqcore\n```\n", encoding="utf-8")
    found = [(b.lang, b.info, b.line) for b in code_blocks(f) if _PYTHON_START.match(b.code.lstrip())]
    assert found == [("", "indented", 3), ("", "", 7)]
