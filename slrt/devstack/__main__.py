import sys

from slrt.devstack.cli import main

sys.exit(main())
