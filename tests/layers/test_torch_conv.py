"""PyTorch padding / layout semantics of the 'valid' Keras convolutions tfvton builds on."""
import numpy as np
import pytest

from tests.testing import assert_close, torch_or_skip
from tfvton.layers.reflection_pad import ReflectionPad2D
from tfvton.layers.torch_conv import conv2d, conv2d_transpose, crop, zero_pad

RNG = np.random.default_rng(0)


def _nchw(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("size", [(8, 6), (9, 7)])  # odd sizes: where Keras 'same' and PyTorch differ
@pytest.mark.parametrize("kernel,stride", [(4, 2), (3, 2), (4, 1)])
def test_zero_padded_conv_matches_torch(size, kernel, stride):
    torch = torch_or_skip()
    x = RNG.normal(size=(2, *size, 3)).astype(np.float32)
    weight = RNG.normal(size=(5, 3, kernel, kernel)).astype(np.float32)  # OIHW
    bias = RNG.normal(size=5).astype(np.float32)
    expected = torch.nn.functional.conv2d(torch.from_numpy(_nchw(x)), torch.from_numpy(weight),
                                          torch.from_numpy(bias), stride=stride, padding=1)
    conv = conv2d(5, kernel, stride=stride, name="c")
    conv.build((None, None, None, 3))
    conv.set_weights([weight.transpose(2, 3, 1, 0), bias])
    assert_close(conv(zero_pad(x, 1)), _nhwc(expected), atol=1e-5)


@pytest.mark.parametrize("dilation", [1, 2, 3, 4])
def test_reflection_padded_dilated_conv_matches_torch(dilation):
    torch = torch_or_skip()
    x = RNG.normal(size=(1, 11, 9, 4)).astype(np.float32)
    weight = RNG.normal(size=(4, 4, 3, 3)).astype(np.float32)
    bias = RNG.normal(size=4).astype(np.float32)
    t = torch.nn.functional.pad(torch.from_numpy(_nchw(x)), [dilation] * 4, mode="reflect")
    expected = torch.nn.functional.conv2d(t, torch.from_numpy(weight), torch.from_numpy(bias),
                                          dilation=dilation)
    conv = conv2d(4, 3, dilation=dilation, name="c")
    conv.build((None, None, None, 4))
    conv.set_weights([weight.transpose(2, 3, 1, 0), bias])
    y = conv(ReflectionPad2D(dilation)(x))
    assert y.shape == (1, 11, 9, 4)  # padding = dilation keeps the size
    assert_close(y, _nhwc(expected), atol=1e-5)


@pytest.mark.parametrize("kernel,padding,output_padding", [(3, 1, 1), (4, 1, 0), (3, 1, 0), (5, 2, 1)])
@pytest.mark.parametrize("size", [(4, 3), (5, 6)])
def test_transposed_conv_with_output_padding_matches_torch(kernel, padding, output_padding, size):
    torch = torch_or_skip()
    x = RNG.normal(size=(2, *size, 6)).astype(np.float32)
    weight = RNG.normal(size=(6, 3, kernel, kernel)).astype(np.float32)  # (in, out, kh, kw)
    bias = RNG.normal(size=3).astype(np.float32)
    expected = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(_nchw(x)), torch.from_numpy(weight), torch.from_numpy(bias), stride=2,
        padding=padding, output_padding=output_padding)
    deconv = conv2d_transpose(3, kernel, stride=2, name="d")
    deconv.build((None, None, None, 6))
    assert tuple(deconv.kernel.shape) == (kernel, kernel, 3, 6)  # (kh, kw, out, in)
    deconv.set_weights([weight.transpose(2, 3, 1, 0), bias])
    y = crop(deconv(x), padding, padding - output_padding)
    h, w = size
    assert y.shape[1:3] == ((h - 1) * 2 - 2 * padding + kernel + output_padding,
                            (w - 1) * 2 - 2 * padding + kernel + output_padding)
    assert_close(y, _nhwc(expected), atol=1e-5)


def test_official_initialisation():
    conv = conv2d(64, 3, name="c")
    conv.build((None, None, None, 64))
    kernel = np.asarray(conv.kernel)
    assert abs(kernel.mean()) < 2e-3 and abs(kernel.std() - 0.02) < 1e-3
    assert not np.asarray(conv.bias).any()


def test_crop_keeps_static_shape():
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, 9, 7, 2])])
    def f(x):
        return crop(x, 1, 0)

    assert f.get_concrete_function().structured_outputs.shape.as_list() == [1, 8, 6, 2]


@pytest.mark.parametrize("kernel,channels_out", [(7, 3), (7, 4), (3, 5), (1, 2)])
def test_conv_by_rows_matches_torch(kernel, channels_out):
    from tfvton.layers.torch_conv import conv2d_by_rows

    torch = torch_or_skip()
    x = RNG.normal(size=(2, 12, 9, 6)).astype(np.float32)
    weight = RNG.normal(size=(channels_out, 6, kernel, kernel)).astype(np.float32)
    bias = RNG.normal(size=channels_out).astype(np.float32)
    expected = torch.nn.functional.conv2d(torch.from_numpy(_nchw(x)), torch.from_numpy(weight),
                                          torch.from_numpy(bias))
    conv = conv2d(channels_out, kernel, name="head")
    y = conv2d_by_rows(conv, x)  # builds the layer's own variables
    assert [v.path for v in conv.weights] == ["head/kernel", "head/bias"]
    conv.set_weights([weight.transpose(2, 3, 1, 0), bias])
    assert_close(conv2d_by_rows(conv, x), _nhwc(expected), atol=1e-4)
    assert_close(conv2d_by_rows(conv, x), conv(x), atol=1e-4)
    assert y.shape == (2, 12 - kernel + 1, 9 - kernel + 1, channels_out)


def test_conv_by_rows_gradient_equals_the_direct_conv():
    import tensorflow as tf

    from tfvton.layers.torch_conv import conv2d_by_rows

    x = tf.constant(RNG.normal(size=(1, 10, 8, 4)).astype(np.float32))
    conv = conv2d(3, 7, name="head")
    conv.build(x.shape)
    grads = []
    for fn in (conv, lambda t: conv2d_by_rows(conv, t)):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(fn(x) ** 2)
        grads.append(tape.gradient(loss, [conv.kernel.value, conv.bias.value]))
    for direct, rows in zip(*grads):
        assert_close(rows, direct, atol=1e-4)
