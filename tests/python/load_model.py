"""Loads a dpsgd model.pt with plain torch.load and prints {name: {shape, sum}} as JSON.

Used by tests/e2e/test_run_states.cpp; also the example of how to load a model in PyTorch:
    state = torch.load("results/<experiment>/<run>/model.pt")   # {state-dict name: tensor}
    model.load_state_dict(state)                                # a module with the same names
"""
import json
import sys

import torch

state = torch.load(sys.argv[1], map_location="cpu")
assert isinstance(state, dict), type(state)
print(json.dumps({name: {"shape": list(t.shape), "sum": float(t.double().sum())}
                  for name, t in state.items()}))
