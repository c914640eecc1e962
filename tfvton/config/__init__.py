"""Run configuration: frozen dataclasses, YAML presets, CLI overrides."""
from tfvton.config.loader import (ConfigError, PRESET_NAMES, config_from_dict, config_to_dict,
                                  load_config, save_config)
from tfvton.config.schema import (Config, DataConfig, LossConfig, ModelConfig, OptimizerConfig,
                                  TrainConfig)

__all__ = ["Config", "ConfigError", "DataConfig", "LossConfig", "ModelConfig", "OptimizerConfig",
           "PRESET_NAMES", "TrainConfig", "config_from_dict", "config_to_dict", "load_config",
           "save_config"]
