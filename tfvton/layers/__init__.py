"""Keras layers, one per module, all registered under package `tfvton`."""
from tfvton.layers.correlation import Correlation
from tfvton.layers.face_crop import FaceCrop
from tfvton.layers.feature_l2_norm import FeatureL2Norm
from tfvton.layers.grid_sample import GridSample, grid_sample
from tfvton.layers.instance_norm import InstanceNorm
from tfvton.layers.reflection_pad import ReflectionPad2D
from tfvton.layers.resnet_block import ResnetBlock
from tfvton.layers.tps_grid import TpsGrid
from tfvton.layers.tree_block import TreeBlock

__all__ = ["Correlation", "FaceCrop", "FeatureL2Norm", "GridSample", "InstanceNorm", "ReflectionPad2D",
           "ResnetBlock", "TpsGrid", "TreeBlock", "grid_sample"]
