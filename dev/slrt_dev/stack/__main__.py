import sys

from slrt_dev.stack.cli import main

sys.exit(main())
