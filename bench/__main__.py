"""``python -m bench`` is the same as ``python bench/run.py``."""
from bench.run import main

raise SystemExit(main())
