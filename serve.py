"""Start the app (`make run`): `python serve.py [streamlit run options]`.

Streamlit 1.67 treats an app beside a `pages/` folder as a legacy multipage app until a script
run calls st.navigation. On a freshly started server the first session therefore gets the
legacy page list: a direct link shows "Page not found", or runs a page file without app.py's
frame when the link names a file. This app declares its pages with st.navigation only
(ui/navigation.py), so the server is told before it starts.
"""

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", "app.py", *sys.argv[1:]]
    sys.exit(cli.main())
