"""``make lab`` as a reader meets it: a real JupyterLab server, asked what the browser would ask it.

The server is started with the command ``make lab`` runs (read from ``make --dry-run lab``), on a free local
port with a random token, and with the user's own Jupyter settings moved aside, so the test sees what the
repository provides. It checks that a chapter opens as a notebook on a double click (the Markdown default
viewer is jupytext's notebook, and the contents API returns the chapter as a notebook), and that the kernel
the chapter asks for imports ``actlib`` and runs in ``book/``, as the book build runs it.
"""

from __future__ import annotations

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

from tests.test_book import toc_documents

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 90
JUPYTEXT_FACTORY = "Jupytext Notebook"


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


def make_lab_command() -> list[str]:
    """The command ``make lab`` runs, as make prints it without running anything."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "lab"], cwd=ROOT, capture_output=True, text=True, check=True
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


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    command = make_lab_command()
    token, port = secrets.token_hex(16), _free_port()
    home = tmp_path_factory.mktemp("jupyter-home")
    # The user's own settings, workspaces and config stay out of the way; the venv's config still applies.
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    extra = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--allow-root")  # containers and CI runners often run as root
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
    assert {"jupyterlab-jupytext", "@jupyter-widgets/jupyterlab-manager"} <= extensions, extensions
    assert not {"jupyterlab-jupytext", "@jupyter-widgets/jupyterlab-manager"} & set(config["disabledExtensions"])

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
            "import json, os, actlib\n"
            "print(json.dumps([actlib.__file__, os.getcwd(), os.environ['JPY_SESSION_NAME']]))"
        )
        actlib_file, cwd, session_name = json.loads(lab.run_in_kernel(session["kernel"]["id"], probe))
    finally:
        lab.request("DELETE", f"/api/sessions/{session['id']}")
    assert Path(actlib_file).resolve() == ROOT / "actlib" / "__init__.py"
    assert Path(cwd).resolve() == ROOT / "book", "chapters run in book/, as in the book build"
    # The variants chapter shows its sliders only when this is set (the book build does not set it).
    assert session_name.endswith("variants.md"), session_name
