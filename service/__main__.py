"""``python -m service``: run the Greeter server until SIGTERM/SIGINT."""

import sys

from service.server import main

if __name__ == "__main__":
    sys.exit(main())
