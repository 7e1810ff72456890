import sys

from slrt_dev.chaos.cli import main

sys.exit(main())
