"""The four try-on networks, their discriminators, VGG19 features and the inference pipeline."""
from tfvton.networks.gmm import GMM
from tfvton.networks.parsing_unet import ParsingUNet
from tfvton.networks.patch_discriminator import PatchDiscriminator
from tfvton.networks.pipeline import TryOnPipeline
from tfvton.networks.resnet_discriminator import ResnetDiscriminator
from tfvton.networks.tree_generator import TreeGenerator
from tfvton.networks.vgg import VGG19Features

__all__ = ["GMM", "ParsingUNet", "PatchDiscriminator", "ResnetDiscriminator", "TreeGenerator",
           "TryOnPipeline", "VGG19Features"]
