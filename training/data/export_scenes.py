"""Writes testdata/scenes.json: held-out scenes with images, captions and Q/A, for cross-language tests."""

import base64
import io
import json

from PIL import Image

from . import scenes


def scenes_json(n=50) -> dict:
    rng = scenes.Mulberry32(1)
    vectors = [rng.next_u32() for _ in range(5)]
    items = []
    for k in range(n):
        seed = 9 + 10 * k
        s = scenes.generate(seed)
        img = scenes.render(s)
        png = io.BytesIO()
        Image.fromarray(img).save(png, format="PNG")
        items.append({
            "seed": seed, "shapes": s["shapes"], "caption": scenes.caption(s),
            "qa": [{"q": q, "a": a} for q, a in scenes.questions(s)],
            "png": base64.b64encode(png.getvalue()).decode(),
            "rgb": base64.b64encode(img.tobytes()).decode(),
        })
    return {
        "spec": "training/data/scenes.md", "size": scenes.SIZE, "layout": "rgb: base64 of uint8 H*W*3, row-major",
        "mulberry32": {"seed": 1, "firstU32": vectors}, "scenes": items,
    }


def write(path, n=50):
    with open(path, "w") as f:
        json.dump(scenes_json(n), f)
