"""Per-sample losses against PyTorch's criteria and hand-derived values (tiny shapes)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from testing import assert_close, torch_or_skip
from tfvton.losses import (PARSING_CLASS_WEIGHTS, attention_loss, cloth_mask_from_parsing,
                           discriminator_loss, gan_loss, generator_loss, l1_loss, mask_l1_loss,
                           mse_loss, parsing_cross_entropy, scale_for_replicas, smooth_l1_loss,
                           total_variation_loss)


def _nchw(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


def _random(shape, low=-1.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


def test_official_class_weights_listed_by_label():
    # Hand-written from base_model.py: 0.03 x2, 0.08, 0.03 x2, 0.08 x3, 0.03 x5, 0.08 x5, 0.05 x2.
    expected = {0: .03, 1: .03, 2: .08, 3: .03, 4: .03, 5: .08, 6: .08, 7: .08, 8: .03, 9: .03, 10: .03,
                11: .03, 12: .03, 13: .08, 14: .08, 15: .08, 16: .08, 17: .08, 18: .05, 19: .05}
    assert len(PARSING_CLASS_WEIGHTS) == 20
    assert PARSING_CLASS_WEIGHTS == tuple(expected[k] for k in range(20))


@pytest.mark.parametrize("loss_fn, torch_name", [(l1_loss, "L1Loss"), (mse_loss, "MSELoss"),
                                                 (smooth_l1_loss, "SmoothL1Loss")])
def test_reconstruction_matches_torch(loss_fn, torch_name):
    torch = torch_or_skip()
    # Differences up to 3 cross SmoothL1's beta=1 threshold on both sides.
    prediction, target = _random((3, 5, 4, 3), -1.5, 1.5, 1), _random((3, 5, 4, 3), -1.5, 1.5, 2)
    per_sample = loss_fn(tf.constant(prediction), tf.constant(target)).numpy()
    assert per_sample.shape == (3,)
    criterion = getattr(torch.nn, torch_name)()
    expected = criterion(torch.from_numpy(_nchw(prediction)), torch.from_numpy(_nchw(target))).item()
    assert_close(per_sample.mean(), expected, atol=1e-6, what=torch_name)
    for b in range(3):  # each sample alone is the criterion on that sample
        one = criterion(torch.from_numpy(_nchw(prediction[b:b + 1])), torch.from_numpy(_nchw(target[b:b + 1])))
        assert_close(per_sample[b], one.item(), atol=1e-6, what=f"{torch_name}[{b}]")


def test_smooth_l1_hand_values():
    # |d| = 0.5 -> 0.5 * 0.25 = 0.125 ; |d| = 2 -> 2 - 0.5 = 1.5
    prediction = tf.constant([[0.5, 2.0]])
    assert_close(smooth_l1_loss(prediction, tf.zeros_like(prediction)), [(0.125 + 1.5) / 2], atol=1e-7)


def test_lsgan_and_official_discriminator_objective_match_torch():
    torch = torch_or_skip()
    real, fake = _random((2, 6, 5, 1), 0, 1, 3), _random((2, 6, 5, 1), 0, 1, 4)
    mse = torch.nn.MSELoss()
    real_t, fake_t = torch.from_numpy(_nchw(real)), torch.from_numpy(_nchw(fake))
    torch_real = mse(real_t, torch.ones_like(real_t)).item()
    torch_fake = mse(fake_t, torch.zeros_like(fake_t)).item()
    d = discriminator_loss(tf.constant(real), tf.constant(fake), "lsgan")
    assert d["total"].shape == (2,)
    assert_close(d["real"].numpy().mean(), torch_real, atol=1e-6, what="D real")
    assert_close(d["fake"].numpy().mean(), torch_fake, atol=1e-6, what="D fake")
    assert_close(d["total"].numpy().mean(), 0.5 * (torch_real + torch_fake), atol=1e-6, what="D total")
    g = generator_loss(tf.constant(fake), "lsgan").numpy()
    assert_close(g.mean(), mse(fake_t, torch.ones_like(fake_t)).item(), atol=1e-6, what="G")


def test_vanilla_gan_matches_bce_with_logits_and_lists_add_up():
    torch = torch_or_skip()
    pred = _random((2, 4, 4, 1), -3, 3, 5)
    pred_t = torch.from_numpy(_nchw(pred))
    expected = torch.nn.BCEWithLogitsLoss()(pred_t, torch.ones_like(pred_t)).item()
    assert_close(gan_loss(tf.constant(pred), True, "vanilla").numpy().mean(), expected, atol=1e-6)
    small = _random((2, 2, 2, 1), 0, 1, 6)
    both = gan_loss([tf.constant(pred), tf.constant(small)], False, "lsgan")
    assert_close(both, gan_loss(tf.constant(pred), False) + gan_loss(tf.constant(small), False), atol=1e-7)
    with pytest.raises(ValueError, match="gan_mode"):
        gan_loss(tf.constant(pred), True, "wgan")


def _parsing_batch(seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(3, 6, 5, 20)).astype(np.float32)
    labels = rng.integers(0, 20, size=(3, 6, 5))
    labels[0] = 0  # sample 0 all background: very different weight sums across samples
    labels[1, :3] = 5
    return scores, labels, np.eye(20, dtype=np.float32)[labels]


def _torch_official_parsing_loss(torch, scores, onehot, double_softmax):
    """The official pipeline written out: NCHW, softmax, reshape, top-1 of the target, weighted CE."""
    pred = torch.from_numpy(_nchw(scores))
    if double_softmax:
        pred = torch.softmax(pred, dim=1)
    target = torch.from_numpy(_nchw(onehot))
    pred = pred.reshape(pred.size(0), pred.size(1), -1)
    _, pos = torch.topk(target, 1, 1, True)
    pos = pos.reshape(pos.size(0), -1)
    criterion = torch.nn.CrossEntropyLoss(weight=torch.tensor(PARSING_CLASS_WEIGHTS, dtype=torch.float32))
    return criterion(pred, pos).item()


@pytest.mark.parametrize("mode", ["official", "logits"])
def test_parsing_cross_entropy_batch_mean_matches_torch(mode):
    torch = torch_or_skip()
    scores, _, onehot = _parsing_batch()
    per_sample = parsing_cross_entropy(tf.constant(scores), tf.constant(onehot), mode=mode).numpy()
    assert per_sample.shape == (3,)
    expected = _torch_official_parsing_loss(torch, scores, onehot, double_softmax=(mode == "official"))
    assert_close(per_sample.mean(), expected, atol=1e-6, what=f"parsing CE {mode}")
    # what a trainer does with one replica: the scaled loss is the PyTorch value
    assert_close(scale_for_replicas(tf.constant(per_sample), 3), expected, atol=1e-6)


def test_parsing_cross_entropy_modes_and_per_sample_reduction():
    torch = torch_or_skip()
    scores, labels, onehot = _parsing_batch(1)
    official = parsing_cross_entropy(tf.constant(scores), tf.constant(onehot), "official").numpy()
    on_probs = parsing_cross_entropy(tf.nn.softmax(scores), tf.constant(onehot), "logits").numpy()
    assert_close(official, on_probs, atol=1e-6, what="official == logits mode on softmax outputs")
    # integer labels give the same as one-hot targets
    assert_close(parsing_cross_entropy(tf.constant(scores), tf.constant(labels), "logits"),
                 parsing_cross_entropy(tf.constant(scores), tf.constant(onehot), "logits"), atol=1e-7)
    per_sample = parsing_cross_entropy(tf.constant(scores), tf.constant(onehot), "logits", reduction="sample")
    for b in range(3):
        expected = _torch_official_parsing_loss(torch, scores[b:b + 1], onehot[b:b + 1], double_softmax=False)
        assert_close(per_sample[b], expected, atol=1e-6, what=f"sample reduction [{b}]")
    with pytest.raises(ValueError, match="parsing_ce"):
        parsing_cross_entropy(tf.constant(scores), tf.constant(onehot), "softmax")


def _torch_tv(torch, x):
    """The official TVLoss (weight 1) written out on an NCHW tensor."""
    b, c, h, w = x.shape
    h_tv = ((x[:, :, 1:, :] - x[:, :, :h - 1, :]) ** 2).sum()
    w_tv = ((x[:, :, :, 1:] - x[:, :, :, :w - 1]) ** 2).sum()
    return (2 * (h_tv / (c * (h - 1) * w) + w_tv / (c * h * (w - 1))) / b).item()


def test_attention_loss_matches_official_l1_plus_tv():
    torch = torch_or_skip()
    mask, target = _random((2, 7, 5, 1), 0, 1, 7), (_random((2, 7, 5, 1), 0, 1, 8) > 0.5).astype(np.float32)
    mask_t = torch.from_numpy(_nchw(mask))
    tv = total_variation_loss(tf.constant(mask)).numpy()
    assert tv.shape == (2,)
    assert_close(tv.mean(), _torch_tv(torch, mask_t), atol=1e-6, what="TV")
    l1 = torch.nn.L1Loss()(mask_t, torch.from_numpy(_nchw(target))).item()
    assert_close(mask_l1_loss(tf.constant(mask), tf.constant(target)).numpy().mean(), l1, atol=1e-6)
    combined = attention_loss(tf.constant(mask), tf.constant(target), tv_weight=0.5).numpy()
    assert_close(combined.mean(), l1 + 0.5 * _torch_tv(torch, mask_t), atol=1e-6, what="L1 + 0.5 TV")
    assert_close(attention_loss(tf.constant(mask), tf.constant(target)), mask_l1_loss(mask, target), atol=0)


def test_total_variation_hand_value():
    # one 2x2 single-channel sample [[0, 1], [0, 1]]: dh = 0 everywhere, dw = 1 on 2 pairs;
    # 2 * (0 / (1*1*2) + 2 / (1*2*1)) = 2
    x = tf.constant([[[[0.0], [1.0]], [[0.0], [1.0]]]])
    assert_close(total_variation_loss(x), [2.0], atol=1e-7)


def test_cloth_mask_from_parsing_selects_labels_5_6_7():
    labels = np.array([[[0, 5, 6], [7, 8, 13]]])
    mask = cloth_mask_from_parsing(tf.one_hot(labels, 20)).numpy()
    assert mask.shape == (1, 2, 3, 1)
    assert mask[..., 0].tolist() == [[[0, 1, 1], [1, 0, 0]]]


def test_losses_are_float32_under_float16_inputs():
    x = tf.constant(_random((2, 4, 4, 3)), tf.float16)
    for value in (l1_loss(x, x * 0), smooth_l1_loss(x, x * 0), gan_loss(x, True),
                  total_variation_loss(x)):
        assert value.dtype == tf.float32 and value.shape == (2,)
