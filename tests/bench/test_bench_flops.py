"""FLOPs counted from traced graphs, against hand-derived counts (2 FLOPs per multiply-add)."""
from collections import Counter

import keras
import numpy as np
import tensorflow as tf

from tfvton.bench.flops import function_flops, summarize


def test_single_conv_by_hand():
    # 'valid' 3x3 conv, 4 -> 8 channels on 1x10x10: output 8x8x8 = 512 values, each 3*3*4 = 36 MACs.
    conv = keras.layers.Conv2D(8, 3)
    assert function_flops(lambda x: conv(x), [tf.TensorSpec([1, 10, 10, 4])]) == 2 * 512 * 36


def test_strided_dilated_and_batched_convs():
    # stride 2, pad 'same' on 2x16x12x3 -> 2x8x6x5: 480 outputs x (5*5*3) MACs.
    strided = lambda x: tf.nn.conv2d(x, tf.zeros([5, 5, 3, 5]), 2, "SAME")  # noqa: E731
    assert function_flops(strided, [tf.TensorSpec([2, 16, 12, 3])]) == 2 * 480 * 75
    # dilation 2 'valid' 3x3 on 1x9x9x2 -> 1x5x5x4: 100 outputs x 18 MACs (dilation changes no count).
    dilated = lambda x: tf.nn.conv2d(x, tf.zeros([3, 3, 2, 4]), 1, "VALID", dilations=2)  # noqa: E731
    assert function_flops(dilated, [tf.TensorSpec([1, 9, 9, 2])]) == 2 * 100 * 18


def test_transposed_conv_counts_input_times_kernel():
    # ConvTranspose 3x3 stride 2, 6 -> 2 channels on 1x4x5x6: every input value meets 3*3*2 weights.
    deconv = keras.layers.Conv2DTranspose(2, 3, strides=2)
    assert function_flops(lambda x: deconv(x), [tf.TensorSpec([1, 4, 5, 6])]) == 2 * (4 * 5 * 6) * (3 * 3 * 2)


def test_matmuls_einsum_and_nested_functions():
    inner = tf.function(lambda a, b: tf.matmul(a, b, transpose_b=True))
    specs = [tf.TensorSpec([7, 3]), tf.TensorSpec([5, 3])]
    assert function_flops(lambda a, b: inner(a, b) + 1.0, specs) == 2 * 7 * 5 * 3
    batched = lambda a, b: tf.matmul(a, b)  # noqa: E731
    assert function_flops(batched, [tf.TensorSpec([4, 2, 6]), tf.TensorSpec([4, 6, 3])]) == 2 * 4 * 2 * 3 * 6
    einsum = lambda a, b: tf.einsum("bij,bjk->bik", a, b)  # noqa: E731
    assert function_flops(einsum, [tf.TensorSpec([4, 2, 6]), tf.TensorSpec([4, 6, 3])]) == 2 * 4 * 2 * 3 * 6


def test_elementwise_ops_do_not_count_and_types_are_reported():
    conv = keras.layers.Conv2D(2, 1, use_bias=True)
    by_type = Counter()
    flops = function_flops(lambda x: tf.nn.relu(conv(x)) * 3.0, [tf.TensorSpec([1, 4, 4, 2])], by_type)
    assert flops == 2 * (4 * 4 * 2) * 2
    assert summarize(by_type) == {"Conv2D": flops / 1e9}


def test_tree_block_by_hand():
    # 12x12 keeps every dilation's space-to-batch free of padding (12 + 2d is a multiple of d).
    from tfvton.layers.tree_block import TreeBlock

    c, hw = 8, 12 * 12
    block = TreeBlock(dropout=0.0)
    flops = function_flops(lambda x: block(x, training=False), [tf.TensorSpec([1, 12, 12, c])])
    branches = 8 * hw * 9 * c * c
    folded_fusion = hw * 4 * c * c  # one 1x1 conv 4C -> C
    kernel_fold = 2 * (2 * c) * (2 * c) * c + (2 * c) * c  # two kernel products and the bias mat-vec
    assert flops == 2 * (branches + folded_fusion + kernel_fold)


def test_appearance_generator_at_paper_widths_matches_the_official_structure():
    # The official structure: ~219 GFLOPs for the appearance generator at 256x192; the layers now execute ~8% less.
    from tfvton.bench.ablation import tree_generator_forward
    from tfvton.networks.tree_generator import TreeGenerator

    net = TreeGenerator(output_channels=4, ngf=64, n_blocks=6)
    spec = [tf.TensorSpec([1, 256, 192, 26])]
    now = function_flops(lambda x: net(x, training=False), spec)
    official = function_flops(lambda x: tree_generator_forward(net, x), spec)
    assert 218.5e9 < official < 221e9
    # Saved per block: 8 C^2 MACs per pixel of the fusions at C = 256, minus the kernel fold.
    saved = 6 * (3072 * 8 * 256 * 256 - (2 * 512 * 512 * 256 + 512 * 256)) * 2
    head_rows = 6 * 192 * 7 * 64 * 28 * 2  # the row-stacked head also convolves the 6 pad rows
    assert official - now == saved - head_rows
    assert np.isclose(now / official, 0.92, atol=0.005)
