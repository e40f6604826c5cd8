"""The adversarial world: a second, independently written synthetic marketplace.

Honest look-alikes that share addresses, IPs, phone ranges, waybill runs and
fast receipts for ordinary reasons, and fraud rings that each show only a
random subset of their traces. ``generate_adversarial`` returns the standard
``SynthData`` shape, so every export writer and label file works unchanged.
See docs/synth.md ("The adversarial world").
"""

from riskkit.synth.adversarial.generate import DEFAULT_ROWS, generate_adversarial

__all__ = ["DEFAULT_ROWS", "generate_adversarial"]
