"""``make lab`` as a reader meets it: a real JupyterLab server, asked what the browser would ask it.

The server is started with the command ``make lab`` runs (read from ``make --dry-run lab``), on a free local
port with a random token, and with the user's own Jupyter settings moved aside, so the test sees what the
repository provides. It checks that a chapter opens as a notebook on a double click (the Markdown default
viewer is jupytext's notebook, and the contents API returns the chapter as a notebook), and that the kernel
the chapter asks for imports ``actlib`` and runs in ``book/``, as the book build runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import difflib
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from tests.browser.support import WAIT_SCALE
from tests.test_book import toc_documents

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 90 * WAIT_SCALE
JUPYTEXT_FACTORY = "Jupytext Notebook"
# What the kernelspec sets (Makefile, `ipykernel install --env`): one BLAS thread, as `make book` runs.
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1"}


class LabServer:
    """A running JupyterLab: its URL, its token, and JSON requests to its REST API."""

    def __init__(self, url: str, token: str, root_dir: Path) -> None:
        self.url, self.token, self.root_dir = url, token, root_dir

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            content = response.read()
        return json.loads(content) if content else {}

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def page(self, path: str) -> str:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode()

    def run_in_kernel(self, kernel_id: str, code: str, timeout: float = 60) -> str:
        """Execute code in a kernel over the server's websocket, as the notebook does; its stdout."""
        socket_url = self.url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        connection = websocket.create_connection(
            socket_url, header=[f"Authorization: token {self.token}"], timeout=timeout
        )
        try:
            msg_id = uuid.uuid4().hex
            connection.send(json.dumps(_execute_request(msg_id, code)))
            stdout, deadline = [], time.monotonic() + timeout
            while time.monotonic() < deadline:
                message = json.loads(connection.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream" and content["name"] == "stdout":
                    stdout.append(content["text"])
                elif kind == "error":
                    raise AssertionError(f"the kernel raised {content['ename']}: {content['evalue']}")
                elif kind == "status" and content["execution_state"] == "idle":
                    return "".join(stdout)
            raise AssertionError(f"no reply from the kernel within {timeout} s")
        finally:
            connection.close()


def _execute_request(msg_id: str, code: str) -> dict:
    return {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "test",
            "session": uuid.uuid4().hex,
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
        "channel": "shell",
        "buffers": [],
    }


def make_lab_command(*variables: str) -> list[str]:
    """The command ``make lab`` runs (given make variables such as ``LAB_PORT=8890``), as make prints it."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "lab", *variables],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    commands = [line for line in dry_run.stdout.splitlines() if re.search(r"\bjupyter[- ]lab\b", line)]
    assert commands, f"`make --dry-run lab` starts no JupyterLab:\n{dry_run.stdout}"
    return shlex.split(commands[-1])


def _root_dir(command: list[str]) -> Path:
    """The directory JupyterLab serves: its positional argument, or the working directory."""
    positional = [arg for arg in command[2:] if not arg.startswith("-")]
    return (ROOT / positional[0]).resolve() if positional else ROOT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_lab(home: Path) -> Iterator[LabServer]:
    """JupyterLab started with the command of ``make lab``, on a free local port, with a random token.

    ``home`` holds the server's own settings, workspaces and log, so the user's stay out of the way (the venv's
    configuration still applies). ``OPENBLAS_NUM_THREADS`` is removed from the server's environment, as in a
    JupyterLab started without make: what the chapters need must come with the kernel.
    """
    token, port = secrets.token_hex(16), _free_port()
    # The variables the README documents, as a reader on a server or in a container passes them.
    command = make_lab_command(f"LAB_PORT={port}", "LAB_IP=127.0.0.1", "LAB_BROWSER=no")
    env = {
        **{name: value for name, value in os.environ.items() if name not in KERNEL_ENV},
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    extra = [f"--IdentityProvider.token={token}"]
    log = home / "server.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(command + extra, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    running = LabServer(f"http://127.0.0.1:{port}", token, _root_dir(command))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert server.poll() is None, f"JupyterLab exited with {server.returncode}:\n{log.read_text()}"
            try:
                running.get("/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"JupyterLab did not answer:\n{log.read_text()}"
                time.sleep(0.5)
        yield running
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    with running_lab(tmp_path_factory.mktemp("jupyter-home")) as server:
        yield server


def _chapter_paths(root_dir: Path) -> list[str]:
    """The .md chapters of _toc.yml, as paths relative to the directory JupyterLab serves."""
    sources = [ROOT / f"{document}.md" for document in toc_documents(ROOT / "_toc.yml")]
    return [source.relative_to(root_dir).as_posix() for source in sources if source.is_file()]


def test_make_lab_runs_jupyterlab_of_the_venv_on_the_chapters() -> None:
    command = make_lab_command()
    assert Path(command[0]).name == "jupyter" and command[1] == "lab", command
    assert (ROOT / command[0]).parent.resolve() == Path(sys.executable).parent.resolve(), "lab runs outside the venv"
    assert (ROOT / "book" / "relu.md").is_relative_to(_root_dir(command)), "the chapters are outside the lab's root"


@pytest.mark.slow
def test_markdown_opens_with_jupytext_notebook_by_default(lab: LabServer) -> None:
    plugin = lab.get("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    # overrides.json changes the defaults JupyterLab serves in the schema; the user's own settings are empty.
    defaults = plugin["schema"]["properties"]["defaultViewers"]["default"]
    assert defaults.get("markdown") == JUPYTEXT_FACTORY, (
        f"Markdown opens in {defaults.get('markdown', 'the text editor')}; `make lab` writes the override to "
        f"{Path(sys.prefix, 'share', 'jupyter', 'lab', 'settings', 'overrides.json')}"
    )

    page_config = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab.page("/lab"), re.DOTALL
    )
    assert page_config, "the /lab page carries no configuration"
    config = json.loads(page_config.group(1))
    extensions = {extension["name"] for extension in config["federated_extensions"]}
    # jupyterlab-myst renders the chapters' MyST (roles, directives, {eval}) in the Markdown cells.
    wanted = {"jupyterlab-jupytext", "@jupyter-widgets/jupyterlab-manager", "jupyterlab-myst"}
    assert wanted <= extensions, extensions
    assert not wanted & set(config["disabledExtensions"])

    # The viewer named in the settings must be the one the jupytext front end registers.
    bundle = Path(sys.prefix, "share", "jupyter", "labextensions", "jupyterlab-jupytext", "static")
    assert any(f'"{JUPYTEXT_FACTORY}"' in script.read_text(errors="replace") for script in bundle.glob("*.js")), (
        f"no {JUPYTEXT_FACTORY!r} widget factory in the jupytext extension at {bundle}"
    )


@pytest.mark.slow
def test_every_chapter_opens_as_a_notebook(lab: LabServer) -> None:
    chapters = _chapter_paths(lab.root_dir)
    assert chapters, f"no chapter under {lab.root_dir}"
    for chapter in chapters:
        model = lab.get(f"/api/contents/{chapter}?type=notebook")
        assert model["type"] == "notebook", (chapter, model["type"])
        assert model["content"]["cells"], f"{chapter} opens as an empty notebook"
        code_cells = [cell for cell in model["content"]["cells"] if cell["cell_type"] == "code"]
        written = (lab.root_dir / chapter).read_text(encoding="utf-8").count("```{code-cell}")
        # A page without code (a placeholder, the glossary) may be plain Markdown; one with code must be read
        # as MyST, or its code cells would open as Markdown text.
        assert len(code_cells) == written, f"{chapter}: {written} code cells written, {len(code_cells)} opened"
        if written:
            assert model["content"]["metadata"]["kernelspec"]["name"] == "python3", chapter


@pytest.mark.slow
def test_the_chapter_kernel_imports_actlib_in_book(lab: LabServer) -> None:
    kernelspecs = lab.get("/api/kernelspecs")["kernelspecs"]
    assert "python3" in kernelspecs, sorted(kernelspecs)
    kernel_python = Path(kernelspecs["python3"]["spec"]["argv"][0])
    assert kernel_python.parent.resolve() == Path(sys.executable).parent.resolve(), kernel_python

    chapter = next(path for path in _chapter_paths(lab.root_dir) if path.endswith("variants.md"))
    session = lab.request(
        "POST", "/api/sessions", {"path": chapter, "name": Path(chapter).name, "type": "notebook",
                                  "kernel": {"name": "python3"}}
    )
    try:
        probe = (
            "import json, os, actlib, numpy, threadpoolctl\n"
            "print(json.dumps(get_ipython().kernel.language_info))\n"
            "blas = [pool['num_threads'] for pool in threadpoolctl.threadpool_info() if pool['user_api'] == 'blas']\n"
            f"env = {{name: os.environ.get(name) for name in {sorted(KERNEL_ENV)!r}}}\n"
            "print(json.dumps([actlib.__file__, os.getcwd(), os.environ['JPY_SESSION_NAME'], env, blas]))"
        )
        language_info, report = lab.run_in_kernel(session["kernel"]["id"], probe).splitlines()
        actlib_file, cwd, session_name, env, blas_threads = json.loads(report)
    finally:
        lab.request("DELETE", f"/api/sessions/{session['id']}")
    assert Path(actlib_file).resolve() == ROOT / "actlib" / "__init__.py"
    assert Path(cwd).resolve() == ROOT / "book", "chapters run in book/, as in the book build"
    # The variants chapter shows its sliders only when this is set (the book build does not set it).
    assert session_name.endswith("variants.md"), session_name
    # The server was started without OPENBLAS_NUM_THREADS (see running_lab): the kernel sets it itself.
    assert env == KERNEL_ENV, f"the kernel's environment lacks {KERNEL_ENV}: {env}"
    assert blas_threads and set(blas_threads) == {1}, f"NumPy's BLAS runs {blas_threads} threads in the kernel"
    # A chapter opens with the language_info its kernel reports, so JupyterLab has nothing to change and does
    # not mark the chapter modified on opening (lab/bookcontents.py).
    opened = lab.get(f"/api/contents/{chapter}?type=notebook")["content"]["metadata"]
    assert opened.get("language_info") == json.loads(language_info), (opened.get("language_info"), language_info)


# --- `make lab` for every reader ---------------------------------------------------------------------


def test_make_lab_takes_a_port_no_browser_and_runs_as_root() -> None:
    default = make_lab_command()
    assert "--no-browser" not in default, "make lab opens the browser by default"
    chosen = make_lab_command("LAB_PORT=8890", "LAB_BROWSER=no", "LAB_IP=0.0.0.0")
    assert {"--port=8890", "--no-browser", "--ip=0.0.0.0"} <= set(chosen), chosen
    # JupyterLab refuses to start as root unless told to; in a container the reader is root.
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    assert ("--allow-root" in chosen) == as_root, chosen


def test_readme_documents_the_lab_variables() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make lab LAB_PORT=8890 LAB_BROWSER=no" in readme
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for variable in re.findall(r"\b(LAB_[A-Z]+)=", readme):
        assert re.search(rf"^{variable} \?=", makefile, re.MULTILINE), f"README names {variable}; the Makefile has none"


# --- saving a chapter from JupyterLab ----------------------------------------------------------------
# JupyterLab reads and writes the chapters through jupytext's contents manager, which jupytext's server
# extension derives from the server's own (scripts/convert_chapters.py builds it the same way). The notebook
# the browser sends back carries what the notebook view adds: the kernel's language_info, widget state, cell
# ids, outputs and execution counts, jupyterlab-myst's {eval} results (user_expressions), UI state.

sys.path.insert(0, str(ROOT / "scripts"))
import convert_chapters  # noqa: E402  (a script, not a package)


def _as_opened(notebook: dict) -> dict:
    """The notebook as the browser sends it back after opening it and starting its kernel."""
    opened = copy.deepcopy(notebook)
    # The kernel's language_info, which bookcontents already put there when the chapter was read.
    assert opened["metadata"]["language_info"]["pygments_lexer"] == "ipython3", opened["metadata"]
    opened["metadata"]["kernelspec"] = {"display_name": "Python 3 (actlib)", "language": "python", "name": "python3"}
    return opened


def _as_run(notebook: dict) -> dict:
    """The notebook after Run All: outputs, counts, {eval} results, widget state, a collapsed heading."""
    ran = _as_opened(notebook)
    ran["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                                "version_minor": 0}}
    for count, cell in enumerate(ran["cells"], start=1):
        cell["metadata"]["trusted"] = True
        if cell["cell_type"] == "code":
            cell["execution_count"] = count
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
            cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00.000Z"}
        else:
            cell["metadata"]["user_expressions"] = [{"expression": "glue_text('n')", "result": {
                "status": "ok", "data": {"text/plain": "'3'"}, "metadata": {}}}]
            cell["metadata"]["jp-MarkdownHeadingCollapsed"] = True
    return ran


def _edited(notebook: dict) -> tuple[dict, str]:
    """The opened notebook with one word appended to its last Markdown cell; the edited line."""
    edited = _as_opened(notebook)
    cell = [cell for cell in edited["cells"] if cell["cell_type"] == "markdown"][-1]
    lines = cell["source"].rstrip("\n").split("\n")
    lines[-1] += " EDITED"
    cell["source"] = "\n".join(lines)
    return edited, lines[-1]


async def _round_trips(book_copy: Path, name: str) -> dict[str, bytes]:
    manager = convert_chapters.contents_manager(book_copy)
    written = (book_copy / name).read_bytes()
    model = await manager.get(name, content=True, type="notebook")
    notebook = json.loads(json.dumps(model["content"]))  # the JSON the browser receives
    results = {}
    for label, sent in (("opened", _as_opened(notebook)), ("run", _as_run(notebook)), ("edited", _edited(notebook)[0])):
        (book_copy / name).write_bytes(written)
        await manager.save({"type": "notebook", "format": "json", "content": sent}, name)
        results[label] = (book_copy / name).read_bytes()
    results["edited line"] = _edited(notebook)[1].encode()
    return results


@pytest.mark.parametrize("chapter", [path.name for path in convert_chapters.toc_pages()])
def test_saving_a_chapter_in_jupyterlab_changes_only_what_was_edited(chapter: str, tmp_path: Path) -> None:
    shutil.copy(convert_chapters.JUPYTEXT_CONFIG, tmp_path)
    shutil.copy(ROOT / "book" / chapter, tmp_path)
    written = (ROOT / "book" / chapter).read_bytes()
    saved = asyncio.run(_round_trips(tmp_path, chapter))
    for label in ("opened", "run"):
        difference = "\n".join(difflib.unified_diff(written.decode().splitlines(), saved[label].decode().splitlines(),
                                                    "written", f"saved after being {label}", lineterm="", n=1))
        assert saved[label] == written, (
            f"{chapter} changes when saved after being {label} in JupyterLab; if the page is new or was edited by "
            f"hand, run `.venv/bin/python scripts/convert_chapters.py`:\n{difference}"
        )
    changed = [line for line in difflib.ndiff(written.decode().splitlines(), saved["edited"].decode().splitlines())
               if line[:2] in ("- ", "+ ")]
    assert len(changed) == 2 and changed[1] == "+ " + saved["edited line"].decode(), changed


def test_every_page_is_in_the_form_jupyterlab_saves() -> None:
    stale = convert_chapters.unconverted_pages(convert_chapters.toc_pages())
    assert not stale, (
        f"not in the converted form: {stale}; run `.venv/bin/python {convert_chapters.THIS_SCRIPT}` (it writes "
        "{glue:text} as {eval}`glue_text(...)`, imports glue from actlib.glue and saves the page as JupyterLab does)"
    )


def test_the_conversion_rewrites_glue_and_is_idempotent() -> None:
    page = (
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "    format_version: 0.13\nkernelspec:\n  display_name: Python 3 (actlib)\n  language: python\n"
        "  name: python3\nmystnb:\n  render_markdown_format: myst\n---\n\n# Title\n\n"
        "```{code-cell} python3\nfrom myst_nb import glue\nglue(\"n\", 3, display=False)\n```\n\n"
        "There are {glue:text}`n` units, {glue:text}`share:.1%` of them.\n"
    )
    rewritten = convert_chapters.rewrite_source(page, "page.md")
    assert "from actlib.glue import glue, glue_text" in rewritten and "myst_nb" not in rewritten
    assert 'There are {eval}`glue_text("n")` units, {eval}`glue_text("share:.1%")` of them.' in rewritten
    assert convert_chapters.rewrite_source(rewritten, "page.md") == rewritten
    with pytest.raises(convert_chapters.ConversionError, match=r"page\.md:1: only"):
        convert_chapters.rewrite_source("A {glue:md}`table` here.\n", "page.md")
