import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.convert.discriminators import (patch_discriminator_from_official, patch_discriminator_to_official,
                                           resnet_discriminator_from_official,
                                           resnet_discriminator_to_official)
from tfvton.networks.discriminators import PatchDiscriminator, ResnetDiscriminator

# Read from the official code: Define_D(56, 4, 'basic') and Define_D(6, 4, 'resnet_blocks', n_blocks=3).
OFFICIAL_PATCH_NGF4 = {
    "model.model.0.weight": (4, 56, 4, 4), "model.model.0.bias": (4,),
    "model.model.2.weight": (8, 4, 4, 4), "model.model.2.bias": (8,),
    "model.model.5.weight": (16, 8, 4, 4), "model.model.5.bias": (16,),
    "model.model.8.weight": (32, 16, 4, 4), "model.model.8.bias": (32,),
    "model.model.11.weight": (1, 32, 4, 4), "model.model.11.bias": (1,),
}
OFFICIAL_RESNET_D_NGF4 = {
    "model.model.1.weight": (4, 6, 7, 7), "model.model.1.bias": (4,),
    "model.model.4.weight": (8, 4, 3, 3), "model.model.4.bias": (8,),
    "model.model.7.weight": (16, 8, 3, 3), "model.model.7.bias": (16,),
    **{f"model.model.{i}.conv_block.{j}.{p}": (16, 16, 3, 3) if p == "weight" else (16,)
       for i in (10, 11, 12) for j in (1, 5) for p in ("weight", "bias")},
}


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _built(net, shape):
    net(_x(shape))
    rng = np.random.default_rng(3)
    for v in net.weights:
        v.assign(rng.normal(scale=0.1, size=v.shape).astype(np.float32))
    return net


@pytest.mark.parametrize("make,shape,official,to_official,from_official", [
    (lambda: PatchDiscriminator(ndf=4), (1, 32, 32, 56), OFFICIAL_PATCH_NGF4,
     patch_discriminator_to_official, patch_discriminator_from_official),
    (lambda: ResnetDiscriminator(ndf=4, n_blocks=3), (1, 16, 16, 6), OFFICIAL_RESNET_D_NGF4,
     resnet_discriminator_to_official, resnet_discriminator_from_official),
])
def test_official_keys_and_round_trip(make, shape, official, to_official, from_official):
    source = _built(make(), shape)
    state = to_official(source)
    assert {k: v.shape for k, v in state.items()} == official
    target = make()
    x = _x(shape, 1)
    target(x)
    from_official(state, target)
    assert_close(target(x), source(x), atol=0)


def test_conv1_head_has_no_official_counterpart():
    net = _built(ResnetDiscriminator(ndf=4, n_blocks=3, head="conv1"), (1, 16, 16, 6))
    with pytest.raises(ValueError, match="head='conv1' has no official counterpart"):
        resnet_discriminator_to_official(net)
    state = resnet_discriminator_to_official(_built(ResnetDiscriminator(ndf=4, n_blocks=3), (1, 16, 16, 6)))
    with pytest.raises(ValueError, match="not covered by the mapping.*head_conv"):
        resnet_discriminator_from_official(state, net)
