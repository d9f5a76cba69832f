"""Matplotlib figures (Agg backend; one module per area). Figures are written to files, never shown."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
