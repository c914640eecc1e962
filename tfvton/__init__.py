"""tfvton: multi-pose virtual try-on with detail carving, in TensorFlow 2 / Keras 3.

Subpackages: `config`, `data` (MPV layout, preprocessing, SynthMPV), `layers`,
`networks`, `losses`, `training`, `metrics`, `export`, `serving`, `convert`.
"""
__version__ = "0.1.0"
