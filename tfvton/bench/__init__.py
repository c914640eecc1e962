"""Benchmarks: FLOPs from graphs, timing, a matmul probe, peak memory, and the variants `tfvton bench` runs.

Modules: `flops` (multiply-adds counted from a traced graph), `timing` (warm-up
then min / median of wall and CPU time), `probe` (the machine's fp32 matmul
rate, measured in the same process), `memory` (peak RSS), `quality` (PSNR /
SSIM against the fp32 output), `ablation` (the generator's fp32 optimisations
one by one), `runner` (variants x networks, the JSON report).
"""
