"""`tfvton demo`: the whole system end to end on generated data, on a wall-clock budget."""
