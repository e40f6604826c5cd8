"""Seeded synthetic marketplace with labelled fraud, drift and honest look-alikes.

``generate`` builds the canonical frame and the ground truth in memory;
``write_dataset`` writes it in one platform's export format with label files.
"""

from riskkit.synth.config import SynthConfig
from riskkit.synth.export import FORMATS, WORLDS, write_dataset
from riskkit.synth.generate import MIN_ROWS, SynthData, generate

__all__ = [
    "FORMATS",
    "MIN_ROWS",
    "WORLDS",
    "SynthConfig",
    "SynthData",
    "generate",
    "write_dataset",
]
