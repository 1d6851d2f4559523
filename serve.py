"""Start the app (`make run`): `python serve.py [streamlit run options]`.

Streamlit 1.67 treats an app beside a `pages/` folder as a legacy multipage app until a script
run calls st.navigation. On a freshly started server the first session therefore gets the
legacy page list: a direct link shows "Page not found", or runs a page file without app.py's
frame when the link names a file. This app declares its pages with st.navigation only
(ui/navigation.py), so the server is told before it starts.

Streamlit also collects garbage after every script run (`runner.postScriptGC`): a full collection
walks every object the collector tracks, and with pandas, plotly, pydeck and DuckDB loaded that was
about 140 ms of CPU per page run, a third of a run under load (bench/load.py, measured with py-spy).
Those libraries' objects live as long as the process, so they are imported here, before the server
starts, and moved out of the collector's sight (`gc.freeze`): the collections after each run then
walk only what runs create (about 20 ms), and still free it.
"""

import gc
import importlib
import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

# Libraries only: the app's ui modules declare Streamlit caches, which must be created once the
# runtime exists (imported earlier they would get a cache store of their own).
LONG_LIVED = (
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "plotly.graph_objects",
    "plotly.io",
    "plotly.colors",
    "pydeck",
    "streamlit",
)


def freeze_long_lived() -> int:
    """Import the libraries, then freeze every object that exists; returns how many were frozen."""
    for name in LONG_LIVED:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    freeze_long_lived()
    sys.argv = ["streamlit", "run", "app.py", *sys.argv[1:]]
    sys.exit(cli.main())
