"""The two discriminators, one per file (`patch_discriminator.py`, `resnet_discriminator.py`).

This module keeps the import path `tfvton.networks.discriminators` that
docs/architecture.md names.
"""
from tfvton.networks.patch_discriminator import PatchDiscriminator
from tfvton.networks.resnet_discriminator import ResnetDiscriminator

__all__ = ["PatchDiscriminator", "ResnetDiscriminator"]
