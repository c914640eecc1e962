"""Deployment exports: SavedModel for TF-Serving (`saved_model`), its warm-up file
(`warmup`), and TFLite/LiteRT models with their runner (`tflite`).

Import the submodules directly (`from tfvton.export.saved_model import
export_saved_model`); this package imports nothing so the CLI stays fast.
"""
