"""Clients for a tfvton model served by TF-Serving: `grpc_client.GrpcClient`
(port 8500) and `rest_client.RestClient` (port 8501), plus `inputs` (files or
arrays -> request tensors).
"""
