"""The official PyTorch release timed in the same run as tfvton: its four networks and `demo.py`'s forward.

`tfvton bench --official-repo PATH` imports a local clone of
JDAI-CV/Down-to-the-Last-Detail-Virtual-Try-on-with-Detail-Carving as it is
(no file of it is changed or copied) and times, with torch on the CPU, the
modules `demo.py` builds:

- `lib.geometric_matching_multi_gpu.GMM(opt)` (the GMM, `grid_size` 5),
- `models.networks.Define_G(36, 20, 64, 'unet_256')` (parsing),
- `Define_G(26, 4, 64, 'treeresnet', with_tanh=False)` (appearance),
- `Define_G(6, 3, 64, 'treeresnet')` (face),

each in `eval()` under `torch.no_grad()`, with the official initialisation
(timing does not depend on the weights), and end to end the tensor code of
`demo.py`'s `forward` loop body (GMM -> `grid_sample`, parsing -> softmax ->
one-hot arg-max, `utils.transforms.create_part`, appearance -> composition,
face refinement), on the same real-format inputs as tfvton's variants.

What importing it needs, none of it a change to the release's code:
- the repo on `sys.path` while its modules import (they import as top-level
  `models`, `lib`, `utils`; those names are removed from `sys.modules` again);
- `torchvision`, if missing, replaced by empty modules during the import
  (the networks import `torchvision.models` only for the VGG loss);
- `gpu_ids=[]` for `Define_G` (its argument for CPU), and while the official
  code runs, `Tensor.cuda()` returning the tensor and `Tensor.get_device()`
  returning `'cpu'` for CPU tensors: `TpsGridGen` and `create_part` call
  `.cuda()` unconditionally, and `TpsGridGen.forward` moves its grids to
  `theta.get_device()`, which is -1 on the CPU;
- a forward pre-hook making the GMM regression's input contiguous: the
  correlation tensor has channels-last strides, which torch >= 1.5 carries
  through the regression's convolutions, and its `x.view(...)` then fails;
  torch 0.4.1, which the release was written for, made every convolution
  output contiguous (one copy of a 192x16x12 tensor).
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import subprocess
import sys
import types
from typing import Callable, Dict, Optional, Sequence

import numpy as np

from tfvton.bench import timing
from tfvton.errors import ModelError, UsageError

# The official code's files this module imports (a clone must have them).
OFFICIAL_FILES = ("lib/geometric_matching_multi_gpu.py", "models/networks.py", "models/network_g.py",
                  "utils/transforms.py")
# Top-level package names the release imports as; removed from sys.modules after the import.
_OFFICIAL_PACKAGES = ("models", "lib", "utils")
# The geometry the official modules hard-code (GMM regression input = (H/16) x (W/16) = 192; ngf 64).
OFFICIAL_GEOMETRY = {"height": 256, "width": 192, "ngf": 64, "gmm_ngf": 64, "n_blocks": 6, "block": "tree"}
CLOTH_LABELS = (5, 6, 7)


def check_geometry(config) -> None:
    """Raises `UsageError` unless `config` has the geometry the official modules are built for."""
    m, d = config.model, config.data
    got = {"height": d.height, "width": d.width, "ngf": m.ngf, "gmm_ngf": m.gmm_ngf, "n_blocks": m.n_blocks,
           "block": m.block}
    if got != OFFICIAL_GEOMETRY:
        raise UsageError(f"--official-repo: the official networks exist at the paper geometry only "
                          f"({OFFICIAL_GEOMETRY}); use --config paper. Received: {got}")


def _torchvision_stub() -> Dict[str, types.ModuleType]:
    stub = types.ModuleType("torchvision")
    modules = {"torchvision": stub}
    for name in ("models", "transforms", "utils"):
        module = types.ModuleType(f"torchvision.{name}")
        setattr(stub, name, module)
        modules[f"torchvision.{name}"] = module
    return modules


@contextlib.contextmanager
def _importable(repo: str):
    """The repo on sys.path, its package names free, torchvision stubbed if missing; all undone after."""
    names = [n for n in sys.modules if n.split(".")[0] in _OFFICIAL_PACKAGES]
    saved = {n: sys.modules.pop(n) for n in names}
    stubs = {} if importlib.util.find_spec("torchvision") else _torchvision_stub()
    sys.modules.update(stubs)
    sys.path.insert(0, repo)
    try:
        yield
    finally:
        sys.path.remove(repo)
        for name in [n for n in sys.modules if n.split(".")[0] in _OFFICIAL_PACKAGES]:
            del sys.modules[name]
        for name in stubs:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


@contextlib.contextmanager
def cpu_only():
    """While active, `Tensor.cuda()` is the identity and `Tensor.get_device()` is 'cpu' for CPU tensors."""
    import torch

    own = {name: torch.Tensor.__dict__[name] for name in ("cuda", "get_device") if name in torch.Tensor.__dict__}
    get_device = torch.Tensor.get_device
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    torch.Tensor.get_device = lambda self: "cpu" if self.device.type == "cpu" else get_device(self)
    try:
        yield
    finally:
        for name in ("cuda", "get_device"):  # back to what the class had (usually inherited from TensorBase)
            if name in own:
                setattr(torch.Tensor, name, own[name])
            else:
                delattr(torch.Tensor, name)


def _commit(repo: str) -> str:
    try:
        return subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


class OfficialRelease:
    """The official networks built from a local clone, on the CPU, and `demo.py`'s forward on them.

    Args:
        repo: path of the clone.
        config: the tfvton config (its model size; the paper geometry is what the
            release builds, `check_geometry`).
        seed: torch seed of the official initialisation.

    Raises:
        ModelError: the path is not a clone of the release.
    """

    def __init__(self, repo: str, config, seed: int = 0):
        import torch

        repo = os.path.abspath(repo)
        missing = [f for f in OFFICIAL_FILES if not os.path.isfile(os.path.join(repo, f))]
        if missing:
            raise ModelError(f"--official-repo {repo}: not a clone of the official release "
                              f"(JDAI-CV/Down-to-the-Last-Detail-Virtual-Try-on-with-Detail-Carving); missing "
                              f"{', '.join(missing)}")
        self.repo = repo
        self.commit = _commit(repo)
        with _importable(repo):
            gmm_module = importlib.import_module("lib.geometric_matching_multi_gpu")
            networks_module = importlib.import_module("models.networks")
            self._create_part = importlib.import_module("utils.transforms").create_part
        opt = types.SimpleNamespace(grid_size=5, fine_height=config.data.height, fine_width=config.data.width)
        torch.manual_seed(seed)
        define_g = networks_module.Define_G
        with cpu_only():
            # demo.py: Define_G(input_nc, output_nc, opt.ndf (64), netG, 'instance', not no_dropout, 'normal', 0.02)
            self.networks = {
                "gmm": gmm_module.GMM(opt),
                "parsing": define_g(36, 20, 64, "unet_256", "instance", True, "normal", 0.02, []),
                "appearance": define_g(26, 4, 64, "treeresnet", "instance", True, "normal", 0.02, [],
                                       with_tanh=False),
                "face": define_g(6, 3, 64, "treeresnet", "instance", True, "normal", 0.02, []),
            }
        if hasattr(self.networks["gmm"], "regression"):
            self.networks["gmm"].regression.register_forward_pre_hook(
                lambda module, args: tuple(a.contiguous() for a in args))
        for network in self.networks.values():
            network.eval()
            for parameter in network.parameters():
                parameter.requires_grad = False

    @staticmethod
    def to_torch(example: Dict[str, np.ndarray]):
        """tfvton model tensors (NHWC numpy) -> NCHW torch tensors."""
        import torch

        return {key: torch.from_numpy(np.ascontiguousarray(np.transpose(value, (0, 3, 1, 2))))
                for key, value in example.items()}

    def forward(self, x) -> Dict[str, object]:
        """`demo.py`'s forward loop body on NCHW tensors; returns the final image and each network's input."""
        import torch
        import torch.nn.functional as F

        create_part, nets = self._create_part, self.networks
        with torch.no_grad(), cpu_only():
            agnostic = torch.cat([x["source_shape"], x["source_head"], x["target_pose"]], 1)
            grid, _ = nets["gmm"](agnostic, x["cloth_image"])
            warped_cloth = F.grid_sample(x["cloth_image"], grid, padding_mode="border", align_corners=True)  # as torch 0.4.1
            index = [i for i in range(20) if i not in CLOTH_LABELS]
            source_parse = x["source_parse"]
            input_parse = torch.cat((torch.index_select(source_parse, 1, torch.tensor(index)), x["target_pose"],
                                     x["cloth_mask"]), 1)
            parse = F.softmax(nets["parsing"](input_parse), dim=1)
            labels = torch.argmax(parse, dim=1, keepdim=True).float()
            one_hot = torch.cat([labels == i for i in range(20)], dim=1).float()
            image_without_cloth = create_part(x["source_image"], source_parse, "image_without_cloth", False)
            input_app = torch.cat((image_without_cloth, warped_cloth, parse), 1)
            rendered, mask = torch.split(nets["appearance"](input_app), 3, 1)
            rendered, mask = torch.tanh(rendered), torch.sigmoid(mask)
            tryon = warped_cloth * mask + rendered * (1 - mask)
            generated_face = create_part(tryon, one_hot, "face", False)
            source_face = create_part(x["source_image"], source_parse, "face", False)
            input_face = torch.cat((source_face, generated_face), 1)
            face = create_part(nets["face"](input_face), one_hot, "face", False)
            final = tryon - generated_face + face
        return {"final": final, "inputs": {"gmm": (agnostic, x["cloth_image"]), "parsing": (input_parse,),
                                           "appearance": (input_app,), "face": (input_face,)}}

    def network_callable(self, name: str, inputs: Sequence) -> Callable[[], object]:
        """One network on fixed inputs, as the timing loop calls it."""
        import torch

        network = self.networks[name]

        def call():
            with torch.no_grad(), cpu_only():
                return network(*inputs)

        return call


def time_official(repo: str, config, batch_inputs: Dict[str, np.ndarray], threads: int, runs: int, warmup: int, networks: bool = True, end_to_end: bool = True,
                  seed: int = 0, log: Optional[Callable[[str], None]] = None) -> Dict[str, object]:
    """Times the official networks and forward on `batch_inputs` (model tensors, NHWC).

    Returns:
        A report entry shaped like a tfvton variant's: `networks` (gmm, parsing,
        appearance, face) and `end_to_end` timings, plus `what`, `repo`,
        `commit`, `torch`.
    """
    # Read by torch's OpenMP runtime when torch loads: threads that sleep at a barrier instead of spinning.
    # Spinning OpenMP threads on shared cores made the release 5-10x slower under load (a descheduled
    # thread holds every barrier); TensorFlow's pool sleeps after a short spin. No effect on a quiet machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    check_geometry(config)
    log = log or (lambda message: None)
    torch.set_num_threads(threads)
    # TensorFlow flushes denormals to zero in its compute threads; the same for torch, or the
    # official initialisation's small activations run through the CPU's slow denormal path.
    torch.set_flush_denormal(True)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before torch's first parallel work
        pass
    release = OfficialRelease(repo, config, seed)
    batch = release.to_torch(batch_inputs)
    entry: Dict[str, object] = {
        "what": f"official PyTorch release (torch {torch.__version__} CPU, {threads} threads, "
                f"batch {len(next(iter(batch_inputs.values())))}), imported unmodified from {release.repo}",
        "repo": release.repo, "commit": release.commit, "torch": torch.__version__, "face_mode": "full",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "flush_denormal": True}
    if networks:
        captured = release.forward(batch)["inputs"]
        entry["networks"] = {}
        for name in ("gmm", "parsing", "appearance", "face"):
            measured = timing.time_callable(release.network_callable(name, captured[name]), runs=runs, warmup=warmup)
            entry["networks"][name] = measured.as_dict()
            log(f"{'official':18s} {name:10s} median {measured.median_s:.4f}s min {measured.min_s:.4f}s")
    if end_to_end:
        measured = timing.time_callable(lambda: release.forward(batch)["final"], runs=runs, warmup=warmup)
        entry["end_to_end"] = measured.as_dict()
        log(f"{'official':18s} {'end-to-end':10s} median {measured.median_s:.4f}s min {measured.min_s:.4f}s")
    return entry
