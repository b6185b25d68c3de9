import sys

from digitdash.cli import main

sys.exit(main())
