import sys

from tfvton.cli import main

sys.exit(main())
