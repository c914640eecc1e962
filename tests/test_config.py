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


@pytest.mark.parametrize("override, message", [
    ("train.batch_size=0", "train.batch_size must be >= 1. Received: train.batch_size=0"),
    ("train.batch_size=-4", "train.batch_size must be >= 1. Received: train.batch_size=-4"),
    ("train.steps=-1", "train.steps must be >= 1. Received: train.steps=-1"),
    ("train.keep_checkpoints=0", "train.keep_checkpoints must be >= 1. Received: train.keep_checkpoints=0"),
    ("train.image_every=-1", "train.image_every must be >= 0. Received: train.image_every=-1"),
    ("train.stage_steps=[[gmm, 0]]", "train.stage_steps must give each stage >= 1"),
    ("model.ngf=0", "model.ngf must be >= 1. Received: model.ngf=0"),
    ("model.dropout=1.0", "model.dropout must be in [0.0, 1.0). Received: model.dropout=1.0"),
    ("model.gmm_downsamplings=0", "model.gmm_downsamplings must be 1..4. Received: model.gmm_downsamplings=0"),
    ("model.parsing_downsamplings=1", "model.parsing_downsamplings must be 0 (derived from the resolution) or >= 2"),
    ("optimizer.lr=0", "optimizer.lr must be a finite number > 0. Received: optimizer.lr=0.0"),
    ("optimizer.decay=cosine", "optimizer.decay must be one of none, linear. Received: optimizer.decay='cosine'"),
    ("train.strategy=tpu", "train.strategy must be one of auto, none, mirrored, multiworker"),
    ("loss.vgg=-1", "loss.vgg must be a finite number >= 0. Received: loss.vgg=-1.0"),
    ("loss.l1=.nan", "loss.l1 must be a finite number >= 0"),
    ("train.steps=1e400", "train.steps must be an integer"),
])
def test_out_of_range_values_are_rejected_at_load_naming_the_key(override, message):
    with pytest.raises(ConfigError) as err:
        load_config("smoke", [override])
    assert message in str(err.value)
    assert "tfvton/" not in str(err.value)  # the config key, never our source path


def test_zero_means_off_where_documented():
    config = load_config("smoke", ["train.checkpoint_every=0", "train.image_every=0", "train.epochs=0",
                                   "model.n_blocks=0", "model.parsing_downsamplings=0", "optimizer.decay_steps=0"])
    assert config.train.checkpoint_every == 0 and config.model.n_blocks == 0


def test_every_range_rule_names_a_real_key():
    from tfvton.config import Config
    from tfvton.config.validation import CHOICES, INTERVAL, MINIMUM, STAGE_MINIMUM, _get

    for key in list(MINIMUM) + list(STAGE_MINIMUM) + list(INTERVAL) + list(CHOICES):
        _get(Config(), key)  # AttributeError when a rule outlives its field


def test_the_paper_defaults_pass_the_range_checks():
    from tfvton.config import config_from_dict

    assert config_from_dict({}).train.batch_size == 8


def test_empty_yaml_is_an_error_not_the_paper_preset(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# only a comment\n")
    with pytest.raises(ConfigError, match="empty.yaml: the config file is empty"):
        load_config(path)


def test_inherit_cycle_names_the_chain(tmp_path):
    (tmp_path / "a.yaml").write_text("inherit: b.yaml\ntrain: {steps: 3}\n")
    (tmp_path / "b.yaml").write_text("inherit: c.yaml\n")
    (tmp_path / "c.yaml").write_text("inherit: a.yaml\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "a.yaml")
    message = str(err.value)
    assert "cycle" in message
    chain = [part.strip().rsplit("/", 1)[-1] for part in message.split("cycle:")[1].split("->")]
    assert chain == ["a.yaml", "b.yaml", "c.yaml", "a.yaml"]
    (tmp_path / "self.yaml").write_text("inherit: self.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "self.yaml")


def test_inherit_chain_without_cycle_still_merges(tmp_path):
    (tmp_path / "base.yaml").write_text("inherit: smoke\ntrain: {steps: 3}\n")
    (tmp_path / "top.yaml").write_text("inherit: base.yaml\ntrain: {batch_size: 3}\n")
    config = load_config(tmp_path / "top.yaml")
    assert (config.train.steps, config.train.batch_size, config.name) == (3, 3, "smoke")


@pytest.mark.parametrize("text, message", [
    ("train: [1, 2\n", "not valid YAML"),
    ("- 1\n- 2\n", "expected a mapping of sections at the top level. Received: list"),
    ("train: 3\n", "train must be a mapping (the TrainConfig section). Received: train=3"),
])
def test_malformed_yaml_names_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    if "TrainConfig" not in message:
        assert str(path) in str(err.value)
