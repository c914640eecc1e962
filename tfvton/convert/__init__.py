"""Official PyTorch checkpoints <-> Keras networks.

`load_official` builds a `TryOnPipeline` from the official release's four files,
`convert_official` writes them as a tfvton run directory, and
`export_official_state_dicts` / `save_official_checkpoints` go back to the official
layout. Needs the optional extra `pip install tfvton[convert]` (torch) to read or
write `.pth` / `.tar` files.
"""
from tfvton.convert.official import (OfficialCheckpointError, convert_official,
                                     export_official_state_dicts, load_official,
                                     load_official_weights,
                                     read_official_state_dict, save_official_checkpoints)

__all__ = ["OfficialCheckpointError", "convert_official", "export_official_state_dicts",
           "load_official", "load_official_weights", "read_official_state_dict", "save_official_checkpoints"]
