"""Fixtures of the training tests: a tiny SynthMPV directory, shared by the session."""
from __future__ import annotations

import pytest

from tests.training.training_helpers import make_synth


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """SynthMPV at 64x64: 3 identities x 2 poses (4 train pairs, 2 test pairs)."""
    return make_synth(tmp_path_factory.mktemp("synthmpv"))


@pytest.fixture(scope="session")
def synth_batch(synth_root):
    """The first two train examples of `synth_root` as numpy arrays (a fixed batch to overfit)."""
    from tfvton.data import MPVDataset
    from tests.training.training_helpers import tiny_config

    dataset = MPVDataset.from_config(synth_root, None, "train", tiny_config().data, progress=False)
    batch = next(iter(dataset.as_tf_dataset(batch_size=2)))
    return {key: value.numpy() for key, value in batch.items()}
