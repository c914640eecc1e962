"""`tfvton bench --official-repo`: importing a clone of the official release as it is, on the CPU.

No code of the release is in this repository, so the tests build a stand-in
clone with the same module paths and the habits the harness must cope with:
top-level package names (`models`, `lib`, `utils`), `torchvision` imports,
unconditional `.cuda()` calls and grids moved to `theta.get_device()`.
"""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from tfvton.cli import main

torch = pytest.importorskip("torch")

STAND_IN = {
    "lib/geometric_matching_multi_gpu.py": """
        import torch
        import torch.nn as nn
        from torchvision import models  # the release imports it for its VGG loss

        class GMM(nn.Module):
            def __init__(self, opt):
                super().__init__()
                self.grid = torch.zeros(1, opt.fine_height, opt.fine_width, 2).cuda()  # unconditional, as TpsGridGen
                self.conv = nn.Conv2d(22, 2, 1)

            def forward(self, agnostic, cloth):
                theta = self.conv(agnostic).mean((2, 3))
                grid = self.grid.to(theta.get_device())  # -1 on the CPU without the harness
                return grid + 0 * theta[:, None, None, :], theta
    """,
    "models/__init__.py": "",
    "models/network_g.py": """
        import torch.nn as nn
        from torchvision import models

        class Net(nn.Module):
            def __init__(self, input_nc, output_nc):
                super().__init__()
                self.conv = nn.Conv2d(input_nc, output_nc, 1)

            def forward(self, x):
                return self.conv(x)
    """,
    "models/networks.py": """
        from .network_g import Net

        def Define_G(input_nc, output_nc, ngf, netG, norm='instance', use_dropout=False, init_type='normal',
                     init_gain=0.02, gpu_ids=[0], with_tanh=True):
            assert gpu_ids == [], 'the harness must ask for the CPU'
            return Net(input_nc, output_nc)
    """,
    "utils/transforms.py": """
        from torchvision import transforms

        def create_part(image, parse, part, for_l1):
            return (image * parse[:, 13:14]).cuda()
    """,
}


@pytest.fixture()
def stand_in_repo(tmp_path):
    for path, text in STAND_IN.items():
        file = tmp_path / "official" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text))
    return tmp_path / "official"


def test_release_imported_unmodified_and_run_on_cpu(stand_in_repo, smoke_config):
    from tfvton.bench import official
    from tfvton.bench.inputs import real_format_examples

    before = set(sys.modules)
    release = official.OfficialRelease(str(stand_in_repo), smoke_config)
    assert not {"models", "lib", "utils", "models.networks"} & (set(sys.modules) - before)
    assert str(stand_in_repo) not in sys.path
    examples, _ = real_format_examples(smoke_config, None, count=1)
    outputs = release.forward(release.to_torch(examples[0]))
    assert tuple(outputs["final"].shape) == (1, 3, 64, 64)
    assert [tuple(t.shape[1:2]) for t in outputs["inputs"]["parsing"]] == [(36,)]
    assert tuple(outputs["inputs"]["appearance"][0].shape[1:2]) == (26,)
    grid, _ = release.network_callable("gmm", outputs["inputs"]["gmm"])()
    assert tuple(grid.shape) == (1, 64, 64, 2)
    with pytest.raises((AssertionError, RuntimeError)):  # the CPU patch is undone after each call
        torch.zeros(1).cuda()


def test_bad_official_repo_flags(stand_in_repo, tmp_path, capsys):
    from tfvton.bench import official
    from tfvton.errors import ModelError

    with pytest.raises(ModelError, match="not a clone of the official release"):
        official.OfficialRelease(str(tmp_path / "empty"), None)
    # The release hard-codes the paper geometry: another preset is a usage error.
    assert main(["bench", "--config", "smoke", "--variants", "none", "--official-repo", str(stand_in_repo)]) == 2
    assert "paper geometry" in capsys.readouterr().err


def test_time_official_reports_like_a_variant(stand_in_repo, smoke_config, monkeypatch):
    from tfvton.bench import official
    from tfvton.bench.inputs import real_format_examples, stack_batch

    monkeypatch.setattr(official, "check_geometry", lambda config: None)
    examples, _ = real_format_examples(smoke_config, None, count=2)
    entry = official.time_official(str(stand_in_repo), smoke_config, stack_batch(examples, 2), threads=1, runs=1,
                                   warmup=0)
    assert set(entry["networks"]) == {"gmm", "parsing", "appearance", "face"}
    assert entry["end_to_end"]["median_s"] > 0 and "torch" in entry["what"] and np.isfinite(
        entry["end_to_end"]["cpu_min_s"])
