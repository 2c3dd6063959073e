"""``python -m lepton_nb`` (also what ``torchrun -m lepton_nb`` runs)."""

import sys

from .cli import main

sys.exit(main())
