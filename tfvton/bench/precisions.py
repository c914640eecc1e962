"""The generators in each precision the benchmark times, and the pipeline on them.

`bf16` variants build the appearance and face generators (93% of the FLOPs)
under Keras' `mixed_bfloat16` policy (fp32 weights copied in, bf16 compute
through oneDNN, float32 statistics in instance norm); the pipeline mixes their
outputs with fp32 images, so each is wrapped to return float32.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Sequence

import keras
import tensorflow as tf

from tfvton.bench.variants import NETWORKS
from tfvton.networks.factory import build_networks, build_pipeline
from tfvton.run_dir import RunDir


def build_generators(config, run_dir: Optional[str] = None, seed: int = 0, policy: Optional[str] = None,
                     like: Optional[Dict[str, object]] = None, names: Sequence[str] = NETWORKS):
    """The four generators, under a Keras dtype policy, with weights from a run, a seed or `like`."""
    previous = keras.config.dtype_policy()
    if policy:
        keras.config.set_dtype_policy(policy)
    try:
        if run_dir and like is None:
            networks = RunDir(run_dir).load_networks(names, config)
        else:
            keras.utils.set_random_seed(seed)
            networks = build_networks(config, names)
    finally:
        keras.config.set_dtype_policy(previous)
    if like is not None:
        for name in names:
            networks[name].set_weights(like[name].get_weights())
    return networks


def make_pipeline(config, networks: Dict[str, object], crop: Optional[int] = None, float32_outputs=False):
    """A `TryOnPipeline` on these generators; `crop` runs the face stage on crops of that size."""
    networks = dict(networks)
    if float32_outputs:
        networks = {name: float32_outputs_of(net) for name, net in networks.items()}
    model = dataclasses.replace(config.model, face_mode="crop" if crop else "full",
                                face_crop=crop or config.model.face_crop)
    return build_pipeline(config.replace(model=model), networks)


def float32_outputs_of(network):
    """Casts a mixed-precision network's outputs to float32 (the pipeline mixes them with fp32 images)."""
    if network.compute_dtype == "float32":
        return network

    class Float32Outputs(keras.Model):
        def __init__(self, inner, **kwargs):
            super().__init__(name=inner.name, **kwargs)
            self.inner = inner

        def call(self, inputs, training=None):
            outputs = self.inner(inputs, training=training)
            return tf.nest.map_structure(lambda t: tf.cast(t, tf.float32), outputs)

        def warp(self, *args, **kwargs):  # the GMM's sampler, used by the pipeline
            return self.inner.warp(*args, **kwargs)

    wrapper = Float32Outputs(network)
    wrapper.inner_network = network
    return wrapper
