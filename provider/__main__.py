"""Entry point of the component provider when Pulumi runs this repository as a plugin.

PulumiPlugin.yaml points here (`main: provider/__main__.py`) because the repository's own
`__main__.py` is the stack program. Pulumi runs `python provider/__main__.py <engine args>` with the
plugin's virtualenv (requirements.txt); the components come from this checkout's `components/`
folder, the same code that is installed as `aks_grpc` (components/provider.py lists what is hosted).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.provider import main

if __name__ == "__main__":
    main()
