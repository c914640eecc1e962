"""Geometric matching module: regresses a thin-plate-spline warp of the cloth onto the person."""
from __future__ import annotations

import math

import keras

from tfvton.layers.correlation import Correlation
from tfvton.layers.feature_l2_norm import FeatureL2Norm
from tfvton.layers.grid_sample import grid_sample
from tfvton.layers.tps_grid import TpsGrid

# Body shape (1), head image (3), target pose (18): the official person representation.
OFFICIAL_AGNOSTIC_CHANNELS = 22

# Widths of the official regression convs (FeatureRegression): fixed, independent of ngf.
REGRESSION_WIDTHS = (512, 256, 128, 64)
# The official extractor has 4 stride-2 convs (256x192 -> 16x12) and caps widths at 512.
EXTRACTOR_DOWNSAMPLINGS = 4
EXTRACTOR_MAX_WIDTH = 512


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    # PyTorch's Conv2d output size (floor), which the explicit ZeroPadding2D reproduces.
    return (size + 2 * padding - kernel) // stride + 1


def _torch_default_bias(fan_in: int):
    # PyTorch's default bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    bound = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(-bound, bound)


def _torch_default_kernel():
    # PyTorch's default weight init (kaiming_uniform with a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    # A fresh initializer per layer: an unseeded Keras initializer draws its seed
    # when it is constructed, so one made at import time would ignore
    # `keras.utils.set_random_seed` (runs not reproducible) and would give every
    # layer of the same shape the same weights.
    return keras.initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_in", distribution="uniform")


@keras.saving.register_keras_serializable(package="tfvton")
class GMM(keras.Model):
    """The geometric matching module (CP-VTON's GMM as the official release builds it).

    Two feature extractors (person representation and cloth), channel-wise L2
    normalisation, a dense correlation, a conv regression to `2*G*G` control-point
    offsets (tanh) and a thin-plate-spline grid at the input resolution.

    Extractor (per official `FeatureExtraction`): 4 x [4x4 stride-2 conv (pad 1)
    -> ReLU -> BatchNorm] (BatchNorm *after* the ReLU, widths ngf, 2ngf, 4ngf,
    8ngf capped at 512), then 3x3 conv -> ReLU -> BatchNorm, then 3x3 conv ->
    ReLU at the last width. Regression (`FeatureRegression`): conv4x4 s2 ->
    BN -> ReLU (512), conv4x4 s2 -> BN -> ReLU (256), conv3x3 -> BN -> ReLU
    (128), conv3x3 -> BN -> ReLU (64), flatten in PyTorch's (C, H, W) order,
    Linear -> 2*G*G, tanh. At 256x192 the correlation has 16*12 = 192 channels
    and the flatten 64*4*3 = 768 features.

    Layer names (used by `tfvton.convert.gmm`): sub-models `extraction_a`
    (agnostic), `extraction_b` (cloth) with `conv0..conv5`, `bn0..bn4`;
    `regression` with `conv0..conv3`, `bn0..bn3`; `regression_linear`.

    Args:
        grid_size: TPS control points per side (official: 5).
        ngf: base width of the extractors (official: 64).
        height: input height (official: 256). At least 64 (six stride-2 convs);
            multiples of 32 as everywhere in tfvton, sizes round down as PyTorch's do.
        width: input width (official: 192), same rules.
        agnostic_channels: channels of the person representation: body shape (1)
            + head image (3) + target pose (18) = 22 (official); 23 adds the target
            parsing's cloth region (`model.gmm_condition: target_cloth`).
        cloth_channels: channels of the cloth image (3).
        synchronized: use synchronized BatchNorm across replicas (multi-GPU training).
        downsamplings: stride-2 convs per extractor (official: 4, 256x192 -> 16x12).
            3 at 128x96 keeps the official 16x12 correlation (`model.gmm_downsamplings`).
        clip_to_parsing: in the chained forward (`tfvton.networks.forward.render_tryon`),
            cut the warped cloth to the predicted parsing's cloth region (white
            outside), so no garment lands off the body (`model.clip_warp_to_parsing`).
            Not used by the network itself nor while it trains alone.
        identity_init: start the last Linear at zero weights and bias, so theta = 0
            and the grid is the identity: training starts from the unwarped cloth
            (`model.gmm_init: identity`). False: PyTorch's default init (official).
        **kwargs: forwarded to `keras.Model` (e.g. `name`).

    Call args:
        inputs: `(agnostic, cloth)`, (B, H, W, 22) and (B, H, W, 3), in [-1, 1].

    Returns:
        `(grid, theta)`: grid (B, H, W, 2), (x, y) in [-1, 1] for `grid_sample`;
        theta (B, 2*G*G), x offsets first, then y offsets.

    Example:
        >>> gmm = GMM(ngf=8, height=64, width=64)
        >>> grid, theta = gmm((agnostic, cloth))
        >>> warped = gmm.warp(cloth, grid)
    """

    def __init__(
        self,
        grid_size: int = 5,
        ngf: int = 64,
        height: int = 256,
        width: int = 192,
        agnostic_channels: int = 22,
        cloth_channels: int = 3,
        synchronized: bool = False,
        identity_init: bool = False,
        downsamplings: int = EXTRACTOR_DOWNSAMPLINGS,
        clip_to_parsing: bool = False,
        **kwargs,
    ):
        if not 1 <= downsamplings <= EXTRACTOR_DOWNSAMPLINGS:
            raise ValueError(f"GMM: downsamplings must be 1..{EXTRACTOR_DOWNSAMPLINGS}. "
                             f"Received: downsamplings={downsamplings}")
        feature_height, feature_width = height, width
        for _ in range(downsamplings):
            feature_height = _conv_out(feature_height, 4, 2, 1)
            feature_width = _conv_out(feature_width, 4, 2, 1)
        flat_height, flat_width = feature_height, feature_width
        for _ in range(2):  # the two stride-2 regression convs
            flat_height = _conv_out(flat_height, 4, 2, 1)
            flat_width = _conv_out(flat_width, 4, 2, 1)
        if flat_height < 1 or flat_width < 1:
            raise ValueError(
                f"GMM: height and width too small for {downsamplings + 2} stride-2 convs, "
                f"got height={height}, width={width}"
            )

        # === Layers ===
        extraction_a = _feature_extractor(agnostic_channels, ngf, synchronized, downsamplings, name="extraction_a")
        extraction_b = _feature_extractor(cloth_channels, ngf, synchronized, downsamplings, name="extraction_b")
        l2norm = FeatureL2Norm(name="l2norm")
        correlation = Correlation(name="correlation")
        regression = _regression(feature_height * feature_width, synchronized, name="regression")
        to_nchw = keras.layers.Permute((3, 1, 2), name="regression_to_nchw")
        flatten = keras.layers.Flatten(name="regression_flatten")
        fan_in = REGRESSION_WIDTHS[-1] * flat_height * flat_width
        linear = keras.layers.Dense(
            2 * grid_size * grid_size,
            activation="tanh",
            # Zero theta -> the regular control points: TpsGrid gives the identity grid.
            kernel_initializer="zeros" if identity_init else _torch_default_kernel(),
            bias_initializer="zeros" if identity_init else _torch_default_bias(fan_in),
            name="regression_linear",
        )
        # float32 even under a mixed-precision policy: the grid needs ~1e-6 precision.
        tps = TpsGrid(grid_size, height, width, dtype="float32", name="tps_grid")

        # === Functional Model ===
        agnostic = keras.Input((height, width, agnostic_channels), name="agnostic")
        cloth = keras.Input((height, width, cloth_channels), name="cloth")
        feature_a = l2norm(extraction_a(agnostic))
        feature_b = l2norm(extraction_b(cloth))
        corr = correlation([feature_a, feature_b])
        # PyTorch flattens (C, H, W); transposing first lets the official Linear weights apply as-is.
        theta = linear(flatten(to_nchw(regression(corr))))
        grid = tps(theta)
        super().__init__(inputs=(agnostic, cloth), outputs=(grid, theta), **kwargs)

        # === Config ===
        self.grid_size = grid_size
        self.ngf = ngf
        self.height = height
        self.width = width
        self.agnostic_channels = agnostic_channels
        self.cloth_channels = cloth_channels
        self.synchronized = synchronized
        self.identity_init = identity_init
        self.downsamplings = downsamplings
        self.clip_to_parsing = bool(clip_to_parsing)

    def warp(self, cloth, grid, padding_mode: str = "border"):
        """Warps `cloth` (B, H, W, C) with a grid from this module (official inference: border padding)."""
        return grid_sample(cloth, grid, padding_mode=padding_mode)

    @property
    def conditions_on_target_cloth(self) -> bool:
        """True when the person representation carries the target parsing's cloth region (23rd channel)."""
        return self.agnostic_channels == OFFICIAL_AGNOSTIC_CHANNELS + 1

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "grid_size": self.grid_size,
            "ngf": self.ngf,
            "height": self.height,
            "width": self.width,
            "agnostic_channels": self.agnostic_channels,
            "cloth_channels": self.cloth_channels,
            "synchronized": self.synchronized,
            "identity_init": self.identity_init,
            "downsamplings": self.downsamplings,
            "clip_to_parsing": self.clip_to_parsing,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def extractor_widths(ngf: int, downsamplings: int = EXTRACTOR_DOWNSAMPLINGS) -> list[int]:
    """Output widths of the extractor's convs (official: 64, 128, 256, 512, 512, 512)."""
    widths = [min(ngf * 2**i, EXTRACTOR_MAX_WIDTH) for i in range(downsamplings)]
    return widths + [widths[-1], widths[-1]]


def _batch_norm(synchronized: bool, name: str, gamma_initializer="ones"):
    # momentum 0.9 here is PyTorch's momentum 0.1; eps as nn.BatchNorm2d.
    return keras.layers.BatchNormalization(
        momentum=0.9,
        epsilon=1e-5,
        synchronized=synchronized,
        gamma_initializer=gamma_initializer,
        name=name,
    )


def _feature_extractor(in_channels: int, ngf: int, synchronized: bool, downsamplings: int,
                       name: str) -> keras.Sequential:
    layers = []
    fan_in = in_channels
    widths = extractor_widths(ngf, downsamplings)
    for i, filters in enumerate(widths):
        down = i < downsamplings
        kernel = 4 if down else 3
        if down:
            # Explicit padding 1 + valid conv = PyTorch's Conv2d(k=4, s=2, p=1) for any size.
            layers.append(keras.layers.ZeroPadding2D(1, name=f"pad{i}"))
        layers.append(
            keras.layers.Conv2D(
                filters,
                kernel,
                strides=2 if down else 1,
                padding="valid" if down else "same",
                # Official `init_weights(..., 'normal')`: N(0, 0.02) weights, default biases.
                kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02),
                bias_initializer=_torch_default_bias(fan_in * kernel * kernel),
                name=f"conv{i}",
            )
        )
        layers.append(keras.layers.ReLU(name=f"relu{i}"))
        if i < len(widths) - 1:  # no norm after the last conv
            # Official `init_weights`: BatchNorm gamma ~ N(1, 0.02) in the extractors only.
            layers.append(_batch_norm(synchronized, f"bn{i}", keras.initializers.RandomNormal(1.0, 0.02)))
        fan_in = filters
    return keras.Sequential(layers, name=name)


def _regression(in_channels: int, synchronized: bool, name: str) -> keras.Sequential:
    layers = []
    fan_in = in_channels
    for i, filters in enumerate(REGRESSION_WIDTHS):
        down = i < 2
        kernel = 4 if down else 3
        if down:
            layers.append(keras.layers.ZeroPadding2D(1, name=f"pad{i}"))
        layers += [
            keras.layers.Conv2D(
                filters,
                kernel,
                strides=2 if down else 1,
                padding="valid" if down else "same",
                kernel_initializer=_torch_default_kernel(),
                bias_initializer=_torch_default_bias(fan_in * kernel * kernel),
                name=f"conv{i}",
            ),
            _batch_norm(synchronized, f"bn{i}"),
            keras.layers.ReLU(name=f"relu{i}"),
        ]
        fan_in = filters
    return keras.Sequential(layers, name=name)
