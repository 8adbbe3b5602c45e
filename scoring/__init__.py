"""Pure scoring: indicator tables in, explained scores out. No databases, files, Flask or Dash."""

import pandas as _pd

# pandas 3 backs its ``str`` dtype with PyArrow whenever PyArrow is installed (it is: ``data/columnar.py``
# reads through ADBC). The engine is written and measured against the Python-object storage, where
# ``to_numpy(object)`` is free; with Arrow storage every such call copies half a million strings.
# One storage everywhere, whatever is installed.
_pd.set_option("mode.string_storage", "python")
