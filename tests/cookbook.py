"""Where the tests find OpenAI's cookbook datasets: inside the repository, on every clone."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COOKBOOK = ROOT / "assets" / "datasets"  # toy_chat_fine_tuning, drone_training, dpo_pairs
EXTRACTS = ROOT / "tests" / "data" / "cookbook"  # small extracts from notebooks and the spec
