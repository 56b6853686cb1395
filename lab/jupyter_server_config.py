"""Server settings for every JupyterLab of this checkout's venv (``make lab`` or ``.venv/bin/jupyter lab``).

The Makefile's venv step writes ``.venv/etc/jupyter/jupyter_server_config.py``, which loads this file, so the
settings hold however JupyterLab is started from the venv.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# jupytext's server extension keeps a contents manager that is already a jupytext one (it has `formats`).
c.ServerApp.contents_manager_class = "bookcontents.BookContentsManager"  # type: ignore[name-defined]  # noqa: F821
