"""`python -m agents.services <name>`: one agent service, without loading the whole CLI."""

import sys

from agents.services.launch import NAMES, run_agent
from core.logs import configure_logging
from core.settings import get_settings

if len(sys.argv) != 2 or sys.argv[1] not in NAMES:
    sys.exit(f"usage: python -m agents.services {{{'|'.join(NAMES)}}}")
configure_logging(get_settings())
run_agent(sys.argv[1], get_settings())
