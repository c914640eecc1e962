"""Inference for the CLI: one `Predictor` over run directories, SavedModels and TFLite files,
raw inputs from single files, and the official-style result strips."""
