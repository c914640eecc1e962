"""TryOnPipeline: output contract, the demo.py wiring against a numpy re-derivation,
identity warp, `.keras` round trip, and the factory's networks at smoke and paper size."""
from __future__ import annotations

import time

import numpy as np
import pytest

from tests.networks.pipeline_helpers import make_inputs
from tests.testing import assert_close, run_layer_roundtrips

H = W = 64  # the smoke preset's size
FACE = (1, 2, 4, 13)
CLOTH = (5, 6, 7)
OUTPUT_SHAPES = {"warped_cloth": 3, "parsing": 20, "coarse": 3, "composition_mask": 1, "tryon": 3,
                 "final": 3, "face_mask": 1, "grid": 2}


@pytest.fixture(scope="module")
def smoke_networks():
    import keras
    from tfvton.config import load_config
    from tfvton.networks.factory import build_networks
    keras.utils.set_random_seed(1)
    return build_networks(load_config("smoke"))


@pytest.fixture(scope="module")
def smoke_pipeline(smoke_networks):
    from tfvton.config import load_config
    from tfvton.networks.factory import build_pipeline
    return build_pipeline(load_config("smoke"), smoke_networks)


@pytest.fixture(scope="module")
def outputs(smoke_pipeline):
    inputs = make_inputs()
    return inputs, {k: np.asarray(v) for k, v in smoke_pipeline(inputs, training=False).items()}


def _np(x):
    return np.asarray(x, dtype=np.float64)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _bilinear_border(image, grid):
    """Independent align_corners=True, border-padding bilinear sampler in float64.

    The float32 sampler differs by ~1e-5: positions up to 63 carry float32 rounding
    (63 * 6e-8) times pixel differences up to 2 on this noise image.
    """
    b, h, w, _ = image.shape
    x = np.clip((grid[..., 0] + 1) / 2 * (w - 1), 0, w - 1)
    y = np.clip((grid[..., 1] + 1) / 2 * (h - 1), 0, h - 1)
    x0 = np.floor(x).astype(int)
    y0 = np.floor(y).astype(int)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    out = np.empty(grid.shape[:3] + (image.shape[-1],))
    for i in range(b):
        im = image[i]
        out[i] = (im[y0[i], x0[i]] * (1 - fx[i]) * (1 - fy[i]) + im[y0[i], x1[i]] * fx[i] * (1 - fy[i])
                  + im[y1[i], x0[i]] * (1 - fx[i]) * fy[i] + im[y1[i], x1[i]] * fx[i] * fy[i])
    return out


def test_output_keys_and_shapes(outputs):
    inputs, out = outputs
    assert set(OUTPUT_SHAPES) | {"theta"} == set(out)
    for key, channels in OUTPUT_SHAPES.items():
        assert out[key].shape == (2, H, W, channels), key
    assert out["theta"].shape == (2, 2 * 5 * 5)
    assert_close(out["parsing"].sum(-1), np.ones((2, H, W)), atol=1e-5, what="parsing sums to 1")
    assert np.all((out["composition_mask"] >= 0) & (out["composition_mask"] <= 1))


def test_composition_formula(outputs):
    _, out = outputs
    m = _np(out["composition_mask"])
    expected = _np(out["warped_cloth"]) * m + _np(out["coarse"]) * (1 - m)
    assert_close(out["tryon"], expected, atol=1e-6, what="tryon = warped*M + coarse*(1-M)")


def test_face_outside_mask_untouched(outputs):
    _, out = outputs
    # Face mask = channels {1, 2, 4, 13} of the one-hot argmax of the generated parsing.
    labels = np.argmax(out["parsing"], axis=-1)
    mask = np.isin(labels, FACE)[..., None].astype(np.float32)
    assert_close(out["face_mask"], mask, atol=0, what="face mask")
    assert 0 < mask.mean() < 1, "the test needs both face and non-face pixels"
    outside = mask[..., 0] == 0
    np.testing.assert_array_equal(out["final"][outside], out["tryon"][outside])


def test_wiring_matches_demo_forward(smoke_pipeline, outputs):
    """Each sub-network is fed exactly the demo.py tensors, rebuilt here in numpy."""
    inputs, out = outputs
    p = smoke_pipeline
    src, parse = _np(inputs["source_image"]), _np(inputs["source_parse"])

    agnostic = np.concatenate([inputs["source_shape"], inputs["source_head"], inputs["target_pose"]], -1)
    grid, theta = (np.asarray(t) for t in p.gmm((agnostic, inputs["cloth_image"]), training=False))
    assert_close(out["grid"], grid, atol=1e-6, what="grid")
    assert_close(out["theta"], theta, atol=1e-6, what="theta")
    assert_close(out["warped_cloth"], _bilinear_border(_np(inputs["cloth_image"]), _np(grid)), atol=5e-5,
                 what="warped cloth (align_corners=True, border)")

    keep = [c for c in range(20) if c not in CLOTH]
    parsing_in = np.concatenate([parse[..., keep], inputs["target_pose"], inputs["cloth_mask"]], -1)
    parsing = _softmax(_np(p.parsing_generator(parsing_in.astype("float32"), training=False)))
    assert_close(out["parsing"], parsing, atol=1e-6, what="parsing = softmax(U-Net)")

    without_cloth = src * (1 - parse[..., list(CLOTH)].sum(-1, keepdims=True))  # 0 on the cloth, not -1
    app_in = np.concatenate([without_cloth, out["warped_cloth"], out["parsing"]], -1).astype("float32")
    app = _np(p.appearance_generator(app_in, training=False))
    assert_close(out["coarse"], np.tanh(app[..., :3]), atol=1e-5, what="coarse = tanh")
    assert_close(out["composition_mask"], 1 / (1 + np.exp(-app[..., 3:])), atol=1e-5, what="M = sigmoid")

    face_mask = _np(out["face_mask"])
    source_face = src * parse[..., list(FACE)].sum(-1, keepdims=True)
    tryon_face = _np(out["tryon"]) * face_mask
    face_out = _np(p.face_generator(np.concatenate([source_face, tryon_face], -1).astype("float32"),
                                    training=False))
    assert_close(out["final"], _np(out["tryon"]) - tryon_face + face_out * face_mask, atol=1e-5, what="final")


def test_identity_gmm_keeps_the_cloth(smoke_pipeline):
    linear = smoke_pipeline.gmm.get_layer("regression_linear")
    saved = [linear.kernel.numpy(), linear.bias.numpy()]
    try:
        linear.kernel.assign(np.zeros(linear.kernel.shape, "float32"))
        linear.bias.assign(np.zeros(linear.bias.shape, "float32"))
        inputs = make_inputs(batch=1, seed=3)
        out = smoke_pipeline(inputs, training=False)
    finally:
        linear.kernel.assign(saved[0])
        linear.bias.assign(saved[1])
    assert_close(out["theta"], np.zeros((1, 50)), atol=0, what="theta")
    xs, ys = np.meshgrid(np.linspace(-1, 1, W), np.linspace(-1, 1, H))
    assert_close(out["grid"], np.stack([xs, ys], -1)[None], atol=1e-5, what="identity grid")
    assert_close(out["warped_cloth"], inputs["cloth_image"], atol=1e-5, what="identity warp")


def test_keras_roundtrip(smoke_pipeline, tmp_path):
    import keras
    reloaded = run_layer_roundtrips(smoke_pipeline, make_inputs(batch=1, seed=4), tmp_path)
    assert isinstance(reloaded, type(smoke_pipeline))
    for name in ("gmm", "parsing_generator", "appearance_generator", "face_generator"):
        assert isinstance(getattr(reloaded, name), keras.Model)
        assert type(getattr(reloaded, name)) is type(getattr(smoke_pipeline, name))


def test_missing_input_names_the_keys(smoke_pipeline):
    inputs = make_inputs(batch=1)
    del inputs["cloth_mask"]
    with pytest.raises(KeyError, match="cloth_mask"):
        smoke_pipeline(inputs)


def _check_networks(config, networks=None):
    from tfvton.networks import factory

    h, w, m = config.data.height, config.data.width, config.model
    networks = networks or factory.build_networks(config)
    assert set(networks) == set(factory.NETWORK_NAMES)
    for network in networks.values():
        assert network.built and network.count_params() > 0
    shapes = {
        "parsing_generator": ((1, h, w, 36), (1, h, w, 20)),
        "appearance_generator": ((1, h, w, 26), (1, h, w, 4)),
        "face_generator": ((1, h, w, 6), (1, h, w, 3)),
        "parsing_discriminator": ((1, h, w, 56), None),
        "appearance_discriminator": ((1, h, w, 6), (1, h // 4, w // 4, 4 * m.ndf)),
        "face_discriminator": ((1, h, w, 6), (1, h // 4, w // 4, 4 * m.ndf)),
    }
    import keras
    for name, (in_shape, out_shape) in shapes.items():
        got = networks[name].compute_output_spec(keras.KerasTensor(in_shape)).shape
        if out_shape is not None:
            assert tuple(got) == out_shape, name
        else:  # PatchGAN: 3 stride-2 convs then two 4x4 stride-1 convs (padding 1) -> 1 channel
            assert tuple(got) == (1, h // 8 - 2, w // 8 - 2, 1), name
    grid, theta = networks["gmm"].compute_output_spec(
        (keras.KerasTensor((1, h, w, 22)), keras.KerasTensor((1, h, w, 3))))
    assert tuple(grid.shape) == (1, h, w, 2) and tuple(theta.shape) == (1, 2 * m.grid_size ** 2)
    return networks


def test_build_networks_smoke(smoke_config, smoke_networks):
    from tfvton.networks.factory import parsing_downsamplings
    networks = _check_networks(smoke_config, smoke_networks)
    assert parsing_downsamplings(smoke_config) == 6  # 64 = 2**6, derived (parsing_downsamplings: 0)
    assert networks["parsing_generator"].downsamplings == 6
    assert networks["appearance_generator"].n_blocks == smoke_config.model.n_blocks


def test_parsing_depth_from_config():
    from tfvton.config import load_config
    from tfvton.networks.factory import parsing_downsamplings
    assert parsing_downsamplings(load_config("paper")) == 6  # the official unet_256 at 256x192
    assert parsing_downsamplings(load_config("paper", ["data.height=96", "data.width=64"])) == 5
    assert parsing_downsamplings(load_config("smoke", ["model.parsing_downsamplings=4"])) == 4


@pytest.mark.slow
def test_build_networks_paper():
    from tfvton.config import load_config
    start = time.time()
    networks = _check_networks(load_config("paper"))
    assert networks["gmm"].count_params() > 1e7
    print(f"paper networks built in {time.time() - start:.1f}s")
