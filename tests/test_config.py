import pytest

from tfvton.config import ConfigError, PRESET_NAMES, load_config, save_config


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_loads(name):
    config = load_config(name)
    assert config.name == name
    assert config.data.height % 32 == 0 and config.data.width % 32 == 0


def test_paper_preset_matches_official_config():
    config = load_config("paper")
    assert (config.data.height, config.data.width) == (256, 192)
    assert config.model.ngf == 64 and config.model.grid_size == 5
    assert (config.optimizer.lr, config.optimizer.beta1, config.optimizer.beta2) == (2e-4, 0.5, 0.999)
    loss = config.loss
    assert (loss.l1, loss.gan, loss.vgg, loss.mask) == (1, 1, 1, 1)
    assert (loss.face_vgg, loss.face_l1, loss.face_img_l1, loss.face_gan) == (1, 10, 1, 3)


def test_unknown_key_lists_valid_keys(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model: {ngf: 8, nfg: 3}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "nfg" in str(err.value) and "ngf" in str(err.value) and "grid_size" in str(err.value)


def test_overrides_are_typed_and_checked():
    config = load_config("smoke", ["train.batch_size=5", "model.block=resnet", "loss.vgg_layer_weights=[1,2,3,4,5]"])
    assert config.train.batch_size == 5 and config.model.block == "resnet"
    assert config.loss.vgg_layer_weights == (1.0, 2.0, 3.0, 4.0, 5.0)
    with pytest.raises(ConfigError, match="train.batch_size"):
        load_config("smoke", ["train.batch_size=abc"])
    with pytest.raises(ConfigError, match="multiple of 32"):
        load_config("smoke", ["data.height=100"])
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config("nonexistent")


def test_saved_config_reloads_identically(tmp_path):
    config = load_config("small", ["train.steps=7"])
    path = save_config(config, tmp_path / "run" / "config.yaml")
    assert load_config(path) == config
