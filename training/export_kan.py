"""Writes a standalone tiny KAN layer for the TypeScript runtime's reference test:
kan.onnx (input x [N,4] -> y [N,3]), kan.json (weights, grid, order, layout) and input/output pairs.

  /usr/bin/python3 training/export_kan.py packages/semantic-codec/test/data/kan
"""

import json
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from models.kan import KANLinear  # noqa: E402


def main(out):
    torch.manual_seed(7)
    k = KANLinear(4, 3, grid_size=5, spline_order=3, grid_range=(-2.0, 2.0))
    with torch.no_grad():  # non-trivial splines (the init is near zero)
        k.spline_weight.normal_(0, 0.5)
        k.spline_scaler.normal_(1, 0.2)
    k.eval()
    os.makedirs(out, exist_ok=True)
    x = torch.tensor([[0.0, 0.5, -0.5, 1.0], [-1.9, 1.9, 0.01, -0.73], [2.5, -3.0, 1.25, 0.333],
                      [-2.0, 2.0, -1.2, 0.8], [0.2, -0.4, 0.6, -0.8]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(k, (x,), f"{out}/kan.onnx", opset_version=17, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    with torch.no_grad():
        y = k(x)
    doc = {
        "description": "One efficient-KAN layer: y_o = sum_i ( baseWeight[o][i] * silu(x_i) + "
                       "sum_j splineWeight[o][i][j] * B_j(x_i) ), B_j the order-K B-splines on grid[i] "
                       "(Cox-de Boor, half-open intervals [t_j, t_j+1) at order 0; zero outside the grid).",
        "inFeatures": 4, "outFeatures": 3, "gridSize": 5, "splineOrder": 3, "range": [-2.0, 2.0],
        "layout": {"grid": "[in][G+2K+1] knots", "baseWeight": "[out][in]",
                   "splineWeight": "[out][in][G+K] (spline scaler already multiplied in)"},
        "grid": k.grid.tolist(),
        "baseWeight": k.base_weight.tolist(),
        "splineWeight": k.spline_weight_eff().tolist(),
        "cases": [{"x": xi, "y": yi} for xi, yi in zip(x.tolist(), y.tolist())],
        "tolerance": 1e-5,
    }
    with open(f"{out}/kan.json", "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {out}/kan.onnx and kan.json")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "packages/semantic-codec/test/data/kan")
