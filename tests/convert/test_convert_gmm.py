import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.convert.gmm import gmm_from_official, gmm_to_official
from tfvton.networks.gmm import GMM


def _small(seed, **kwargs):
    import keras
    keras.utils.set_random_seed(seed)
    gmm = GMM(grid_size=3, ngf=4, height=64, width=64, **kwargs)
    rng = np.random.default_rng(seed)
    for weight in gmm.weights:  # BatchNorm statistics included, so they must survive too
        value = rng.uniform(0.5, 1.5, weight.shape) if "variance" in weight.path else rng.normal(0, 0.1, weight.shape)
        weight.assign(value.astype(np.float32))
    return gmm


def _inputs():
    rng = np.random.default_rng(7)
    return (rng.uniform(-1, 1, (2, 64, 64, 22)).astype(np.float32), rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32))


def test_round_trip_keras_dict_keras():
    source = _small(0)
    state = gmm_to_official(source)
    target = _small(1)
    ignored = gmm_from_official(state, target)
    assert ignored == sorted(k for k in state if k.endswith("num_batches_tracked"))
    for a, b in zip(source.weights, target.weights):
        assert a.path == b.path and np.array_equal(np.asarray(a), np.asarray(b)), a.path
    inputs = _inputs()
    for got, expected in zip(target(inputs, training=False), source(inputs, training=False)):
        assert_close(got, expected, atol=0)


def test_official_keys_and_layouts_at_paper_size():
    state = gmm_to_official(GMM())
    # 2 extractors x (6 convs x 2 + 5 BN x 5) + regression (4 convs x 2 + 4 BN x 5) + Linear 2.
    assert len(state) == 2 * (12 + 25) + (8 + 20) + 2
    expected_shapes = {
        "extractionA.model.0.weight": (64, 22, 4, 4),
        "extractionB.model.0.weight": (64, 3, 4, 4),
        "extractionA.model.2.running_var": (64,),
        "extractionA.model.9.weight": (512, 256, 4, 4),
        "extractionA.model.14.weight": (512,),
        "extractionB.model.15.weight": (512, 512, 3, 3),
        "regression.conv.0.weight": (512, 192, 4, 4),
        "regression.conv.1.running_mean": (512,),
        "regression.conv.9.weight": (64, 128, 3, 3),
        "regression.conv.10.num_batches_tracked": (),
        "regression.linear.weight": (50, 768),
        "regression.linear.bias": (50,),
    }
    for key, shape in expected_shapes.items():
        assert state[key].shape == shape, key
    assert "extractionA.model.16.weight" not in state and "extractionA.model.17.weight" not in state


def test_layouts_transpose_as_pytorch_expects():
    gmm = _small(2)
    state = gmm_to_official(gmm)
    kernel = np.asarray(gmm.get_layer("extraction_a").get_layer("conv0").kernel)  # HWIO
    assert_close(state["extractionA.model.0.weight"][3, 5, 1, 2], kernel[1, 2, 5, 3], atol=0)  # OIHW
    linear = np.asarray(gmm.get_layer("regression_linear").kernel)  # (in, out)
    assert_close(state["regression.linear.weight"][4, 10], linear[10, 4], atol=0)  # (out, in)
    bn = gmm.get_layer("regression").get_layer("bn2")
    assert_close(state["regression.conv.7.running_var"], bn.moving_variance, atol=0)


def test_strict_errors_list_every_problem():
    gmm = _small(3)
    state = gmm_to_official(gmm)
    del state["regression.conv.4.running_mean"]
    state["regression.extra.weight"] = np.zeros(3, np.float32)
    state["extractionB.model.3.weight"] = np.zeros((1, 2, 3, 3), np.float32)
    target = _small(4)
    before = [np.asarray(w).copy() for w in target.weights]
    with pytest.raises(ValueError) as info:
        gmm_from_official(state, target)
    message = str(info.value)
    assert "regression.conv.4.running_mean" in message
    assert "regression.extra.weight" in message
    assert "extractionB.model.3.weight" in message and "(1, 2, 3, 3)" in message
    # nothing assigned on failure
    assert all(np.array_equal(a, np.asarray(w)) for a, w in zip(before, target.weights))


def test_dataparallel_prefix_is_reported():
    state = {"module." + k: v for k, v in gmm_to_official(_small(5)).items()}
    with pytest.raises(ValueError, match="module"):
        gmm_from_official(state, _small(6))


def test_wrong_width_is_a_shape_error():
    state = gmm_to_official(_small(7))
    import keras
    keras.utils.set_random_seed(0)
    with pytest.raises(ValueError, match="does not fit"):
        gmm_from_official(state, GMM(grid_size=3, ngf=8, height=64, width=64))
