import time

import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.convert.gmm import gmm_from_official
from tfvton.networks.gmm import GMM, extractor_widths


def _inputs(seed, batch, height, width):
    rng = np.random.default_rng(seed)
    shape = rng.uniform(-1, 1, (batch, height, width, 1))
    head = rng.uniform(-1, 1, (batch, height, width, 3))
    pose = (rng.uniform(0, 1, (batch, height, width, 18)) > 0.9).astype(np.float64)
    agnostic = np.concatenate([shape, head, pose], -1).astype(np.float32)  # body shape, head, target pose
    cloth = rng.uniform(-1, 1, (batch, height, width, 3)).astype(np.float32)
    return agnostic, cloth


def _randomise_batchnorm(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model._flatten_layers():
        if layer.__class__.__name__ == "BatchNormalization":
            c = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, c))
            layer.beta.assign(rng.uniform(-0.2, 0.2, c))
            layer.moving_mean.assign(rng.uniform(-0.1, 0.1, c))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, c))


def test_shapes_and_parameters_at_paper_size():
    gmm = GMM()
    agnostic, cloth = _inputs(0, 1, 256, 192)
    grid, theta = gmm((agnostic, cloth), training=False)
    assert tuple(grid.shape) == (1, 256, 192, 2) and tuple(theta.shape) == (1, 50)
    # 16 x 12 features -> 192 correlation channels -> 64 x 4 x 3 = 768 regression features.
    assert gmm.get_layer("regression").get_layer("conv0").kernel.shape == (4, 4, 192, 512)
    assert gmm.get_layer("regression_linear").kernel.shape == (768, 50)
    # The official GMM(opt) has 19,057,650 parameters (Keras adds the BatchNorm moving statistics).
    trainable = sum(int(np.prod(w.shape)) for w in gmm.trainable_weights)
    assert trainable == 19_057_650
    assert extractor_widths(64) == [64, 128, 256, 512, 512, 512]
    assert np.all(np.abs(np.asarray(theta)) <= 1.0)


@pytest.mark.parametrize("height,width,flat", [(64, 64, 64), (96, 160, 128)])
def test_shapes_at_other_sizes(height, width, flat):
    gmm = GMM(grid_size=3, ngf=4, height=height, width=width)
    grid, theta = gmm(_inputs(0, 2, height, width), training=False)
    assert tuple(grid.shape) == (2, height, width, 2) and tuple(theta.shape) == (2, 18)
    assert gmm.get_layer("regression_linear").kernel.shape == (flat, 18)


def test_too_small_input_is_an_error():
    with pytest.raises(ValueError, match="too small for 6 stride-2 convs"):
        GMM(ngf=4, height=32, width=64)


def test_fewer_downsamplings_keep_the_official_correlation_at_half_size():
    # 128x96 with 3 stride-2 convs: 16x12 features, the official 256x192 correlation (192 channels).
    gmm = GMM(ngf=4, height=128, width=96, downsamplings=3)
    grid, theta = gmm(_inputs(0, 2, 128, 96), training=False)
    assert tuple(grid.shape) == (2, 128, 96, 2) and tuple(theta.shape) == (2, 50)
    assert gmm.get_layer("regression").get_layer("conv0").kernel.shape == (4, 4, 192, 512)
    assert gmm.get_layer("regression_linear").kernel.shape == (768, 50)
    assert extractor_widths(4, 3) == [4, 8, 16, 16, 16]
    assert [layer.name for layer in gmm.get_layer("extraction_b").layers if layer.name.startswith("conv")] == [
        f"conv{i}" for i in range(5)]
    # The default stays the official module (four downsamplings: 8x6 features, 48 channels).
    assert GMM(ngf=4, height=128, width=96).get_layer("regression").get_layer("conv0").kernel.shape[2] == 48
    rebuilt = GMM.from_config(gmm.get_config())
    assert rebuilt.downsamplings == 3
    with pytest.raises(ValueError, match="downsamplings must be 1..4"):
        GMM(ngf=4, height=128, width=96, downsamplings=5)


def _torch_reference(torch, ngf, grid_size, corr_channels, flat):
    """A PyTorch GMM written from the official architecture; its state_dict keys are the official ones."""
    nn = torch.nn

    def extractor(in_channels):
        layers = []
        for i, width in enumerate(extractor_widths(ngf)):
            kernel, stride = (4, 2) if i < 4 else (3, 1)
            layers += [nn.Conv2d(in_channels, width, kernel, stride, 1), nn.ReLU()]
            if i < 5:
                layers.append(nn.BatchNorm2d(width))  # after the ReLU
            in_channels = width
        return nn.Sequential(*layers)

    regression, in_channels = [], corr_channels
    for i, width in enumerate((512, 256, 128, 64)):
        kernel, stride = (4, 2) if i < 2 else (3, 1)
        regression += [nn.Conv2d(in_channels, width, kernel, stride, 1), nn.BatchNorm2d(width), nn.ReLU()]
        in_channels = width
    net = nn.Module()
    net.extractionA, net.extractionB, net.regression = nn.Module(), nn.Module(), nn.Module()
    net.extractionA.model, net.extractionB.model = extractor(22), extractor(3)
    net.regression.conv = nn.Sequential(*regression)
    net.regression.linear = nn.Linear(64 * flat, 2 * grid_size**2)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 2.0)
        net.regression.linear.weight.mul_(10.0)  # keep tanh away from 0 so the check means something
    return net.eval()


def _torch_theta(torch, net, agnostic, cloth):
    def l2norm(f):
        return f / torch.pow(torch.sum(f**2, 1) + 1e-6, 0.5).unsqueeze(1)

    a = l2norm(net.extractionA.model(torch.from_numpy(agnostic.transpose(0, 3, 1, 2))))
    b = l2norm(net.extractionB.model(torch.from_numpy(cloth.transpose(0, 3, 1, 2))))
    n, c, h, w = a.shape
    corr = torch.bmm(b.reshape(n, c, h * w).transpose(1, 2), a.transpose(2, 3).reshape(n, c, h * w))
    corr = corr.view(n, h, w, h * w).permute(0, 3, 1, 2).contiguous()
    x = net.regression.conv(corr)
    return torch.tanh(net.regression.linear(x.reshape(n, -1)))


def test_matches_torch_reference_after_conversion():
    torch = torch_or_skip()
    # Non-square so a wrong flatten or correlation order shows: 12 x 8 features, 3 x 2 before the Linear.
    height, width, ngf, grid_size = 192, 128, 4, 5
    net = _torch_reference(torch, ngf, grid_size, corr_channels=12 * 8, flat=3 * 2)
    gmm = GMM(grid_size=grid_size, ngf=ngf, height=height, width=width)
    ignored = gmm_from_official({k: v.numpy() for k, v in net.state_dict().items()}, gmm)
    assert len(ignored) == 2 * 5 + 4  # num_batches_tracked of every BatchNorm
    agnostic, cloth = _inputs(1, 2, height, width)
    with torch.no_grad():
        expected_theta = _torch_theta(torch, net, agnostic, cloth).numpy()
    assert np.std(expected_theta) > 0.05
    grid, theta = gmm((agnostic, cloth), training=False)
    assert_close(theta, expected_theta, atol=1e-5, what="theta")
    warped = gmm.warp(cloth, grid)
    expected_warp = torch.nn.functional.grid_sample(
        torch.from_numpy(cloth.transpose(0, 3, 1, 2).copy()), torch.from_numpy(np.array(grid)),
        padding_mode="border", align_corners=True).numpy().transpose(0, 2, 3, 1)
    assert_close(warped, expected_warp, atol=1e-5, what="warped cloth")


def test_batchnorm_inference_matches_torch():
    torch = torch_or_skip()
    gmm = GMM(ngf=4, height=64, width=64)
    _randomise_batchnorm(gmm, seed=3)
    keras_bn = gmm.get_layer("extraction_a").get_layer("bn1")
    torch_bn = torch.nn.BatchNorm2d(8).eval()
    with torch.no_grad():
        torch_bn.weight.copy_(torch.from_numpy(np.asarray(keras_bn.gamma)))
        torch_bn.bias.copy_(torch.from_numpy(np.asarray(keras_bn.beta)))
        torch_bn.running_mean.copy_(torch.from_numpy(np.asarray(keras_bn.moving_mean)))
        torch_bn.running_var.copy_(torch.from_numpy(np.asarray(keras_bn.moving_variance)))
    x = np.random.default_rng(0).normal(size=(2, 5, 4, 8)).astype(np.float32)
    expected = torch_bn(torch.from_numpy(x.transpose(0, 3, 1, 2))).detach().numpy().transpose(0, 2, 3, 1)
    assert_close(keras_bn(x, training=False), expected, atol=1e-5)
    assert (keras_bn.momentum, keras_bn.epsilon) == (0.9, 1e-5)  # torch momentum 0.1, eps 1e-5


def test_linear_flatten_order_matches_torch():
    torch = torch_or_skip()
    gmm = GMM(ngf=4, height=192, width=128)  # regression output 3 x 2 x 64
    features = np.random.default_rng(0).normal(size=(2, 3, 2, 64)).astype(np.float32)
    linear = gmm.get_layer("regression_linear")
    got = linear(gmm.get_layer("regression_flatten")(gmm.get_layer("regression_to_nchw")(features)))
    torch_linear = torch.nn.Linear(64 * 3 * 2, 50)
    with torch.no_grad():
        torch_linear.weight.copy_(torch.from_numpy(np.asarray(linear.kernel).T))
        torch_linear.bias.copy_(torch.from_numpy(np.asarray(linear.bias)))
        nchw = torch.from_numpy(features.transpose(0, 3, 1, 2).copy())
        expected = torch.tanh(torch_linear(nchw.view(2, -1))).numpy()
    assert_close(got, expected, atol=1e-5)


def test_zero_theta_warps_cloth_to_itself():
    gmm = GMM(ngf=4, height=64, width=64)
    linear = gmm.get_layer("regression_linear")
    linear.kernel.assign(np.zeros(linear.kernel.shape, np.float32))
    linear.bias.assign(np.zeros(linear.bias.shape, np.float32))
    agnostic, cloth = _inputs(2, 2, 64, 64)
    grid, theta = gmm((agnostic, cloth), training=False)
    assert_close(theta, np.zeros((2, 50)), atol=0)
    assert_close(gmm.warp(cloth, grid), cloth, atol=1e-5)


def test_keras_roundtrip(tmp_path):
    gmm = GMM(grid_size=3, ngf=4, height=64, width=64, synchronized=True, name="gmm_small")
    _randomise_batchnorm(gmm)
    reloaded = run_layer_roundtrips(gmm, _inputs(3, 2, 64, 64), tmp_path)
    assert reloaded.get_config() == gmm.get_config()
    assert reloaded.get_layer("extraction_b").get_layer("bn0").synchronized


def test_converts_to_tflite_builtins():
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    start = time.perf_counter()
    gmm = GMM(ngf=4, height=64, width=64)
    _randomise_batchnorm(gmm)
    agnostic, cloth = _inputs(4, 1, 64, 64)
    signature = [tf.TensorSpec((1, 64, 64, 22), tf.float32), tf.TensorSpec((1, 64, 64, 3), tf.float32)]

    @tf.function(input_signature=signature)
    def forward(agnostic, cloth):
        grid, theta = gmm((agnostic, cloth), training=False)
        return {"grid": grid, "theta": theta, "warped_cloth": gmm.warp(cloth, grid)}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], gmm)
    # TF 2.21's default path (via a SavedModel) keeps Keras 3 BatchNorm moving statistics as
    # resource variables (VAR_HANDLE/READ_VARIABLE) that the interpreter reads uninitialised (NaN);
    # freezing the concrete function directly folds them into constants.
    converter.experimental_lower_to_saved_model = False
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # fails if a Flex op is needed
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(name.lower().startswith("flex") for name in ops), ops
    assert not ops & {"VAR_HANDLE", "READ_VARIABLE"}, ops
    # The frozen path writes no signature: match tensors by their (distinct) shapes.
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], agnostic if detail["shape"][-1] == 22 else cloth)
    interpreter.invoke()
    got = {tuple(d["shape"]): interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
    expected = forward(agnostic, cloth)
    for key in ("grid", "theta", "warped_cloth"):
        assert_close(got[tuple(expected[key].shape)], expected[key], atol=1e-4, what=key)
    assert time.perf_counter() - start < 60


def test_training_step_reaches_every_weight():
    import tensorflow as tf

    gmm = GMM(ngf=4, height=64, width=64)
    agnostic, cloth = _inputs(5, 2, 64, 64)
    before = np.asarray(gmm.get_layer("regression").get_layer("bn0").moving_mean).copy()
    with tf.GradientTape() as tape:
        grid, _ = gmm((agnostic, cloth), training=True)
        # official GMM loss: L1 between the zero-padded warp and the target cloth
        loss = tf.reduce_mean(tf.abs(gmm.warp(cloth, grid, padding_mode="zeros") - cloth[:, ::-1]))
    grads = tape.gradient(loss, gmm.trainable_weights)
    missing = [w.path for w, g in zip(gmm.trainable_weights, grads) if g is None or not np.all(np.isfinite(g))]
    assert not missing, missing
    assert not np.allclose(before, np.asarray(gmm.get_layer("regression").get_layer("bn0").moving_mean))
