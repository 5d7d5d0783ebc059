"""Synthetic scenes of coloured shapes with ground-truth captions and Q/A pairs.

The spec is training/data/scenes.md; the TypeScript sender ports this file exactly (same PRNG, same
draw order, same rasteriser), so a seed gives the same scene in both languages.
"""

import numpy as np

SIZE = 32
COLOURS = {  # name -> RGB in 0..255
    "red": (230, 40, 40),
    "green": (40, 200, 60),
    "blue": (50, 90, 240),
    "yellow": (240, 220, 40),
    "white": (245, 245, 245),
}
COLOUR_NAMES = list(COLOURS)
SHAPES = ["circle", "square", "triangle"]
PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles"}
NUMBERS = ["zero", "one", "two", "three"]
BACKGROUND = (0, 0, 0)
MAX_TRIES = 200


class Mulberry32:
    """mulberry32: a 32-bit PRNG that is a few lines in any language (identical in TS)."""

    def __init__(self, seed: int):
        self.a = seed & 0xFFFFFFFF

    def next_u32(self) -> int:
        self.a = (self.a + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return (t ^ (t >> 14)) & 0xFFFFFFFF

    def random(self) -> float:
        return self.next_u32() / 4294967296.0

    def randint(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return int(self.random() * n)


def _ok(c, placed) -> bool:
    """A new shape may go where its box overlaps no placed box (1 px gap) and its centre x differs
    from every placed centre by >= 3 px, so that "left of" is never ambiguous."""
    for p in placed:
        if abs(c["x"] - p["x"]) < 3:
            return False
        gap_x = abs(c["x"] - p["x"]) - (c["r"] + p["r"])
        gap_y = abs(c["y"] - p["y"]) - (c["r"] + p["r"])
        if gap_x < 1 and gap_y < 1:
            return False
    return True


def generate(seed: int) -> dict:
    """The scene for `seed`: {"seed", "shapes": [{"shape","colour","x","y","r"}, ...] sorted left to right}."""
    rng = Mulberry32(seed)
    n = 1 + rng.randint(3)
    pool = list(COLOUR_NAMES)
    specs = []
    for _ in range(n):
        colour = pool.pop(rng.randint(len(pool)))
        shape = SHAPES[rng.randint(3)]
        r = 4 + rng.randint(3)  # half-size 4..6 px
        specs.append({"shape": shape, "colour": colour, "r": r})
    while True:
        placed = []
        for s in specs:
            for _ in range(MAX_TRIES):
                x = s["r"] + rng.randint(SIZE - 2 * s["r"] + 1)
                y = s["r"] + rng.randint(SIZE - 2 * s["r"] + 1)
                c = dict(s, x=x, y=y)
                if _ok(c, placed):
                    placed.append(c)
                    break
            else:
                break  # this shape found no room: start the placement of all shapes again
        if len(placed) == n:
            break
    placed.sort(key=lambda c: c["x"])
    return {"seed": seed, "shapes": placed}


def render(scene: dict) -> np.ndarray:
    """uint8 [SIZE, SIZE, 3]; a pixel (px, py) is inside a shape when its centre (px+.5, py+.5) is."""
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    img[:] = BACKGROUND
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) + 0.5
    for s in scene["shapes"]:
        dx, dy, r = xs - s["x"], ys - s["y"], float(s["r"])
        if s["shape"] == "circle":
            m = dx * dx + dy * dy <= r * r
        elif s["shape"] == "square":
            m = (np.abs(dx) <= r - 0.5) & (np.abs(dy) <= r - 0.5)
        else:  # triangle, apex up: width grows from 0 at y-r to 2r at y+r
            m = (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
        img[m] = COLOURS[s["colour"]]
    return img


def _np(s) -> str:
    return f"a {s['colour']} {s['shape']}"


def caption(scene: dict) -> str:
    """Shapes left to right, joined by "left of": "a red circle left of a blue square"."""
    return " left of ".join(_np(s) for s in scene["shapes"])


def questions(scene: dict) -> list[tuple[str, str]]:
    """Every Q/A pair of the templates in scenes.md, in their fixed order."""
    sh = scene["shapes"]
    qa = [("how many shapes are there ?", NUMBERS[len(sh)])]
    for kind in SHAPES:
        qa.append((f"how many {PLURAL[kind]} are there ?", NUMBERS[sum(s["shape"] == kind for s in sh)]))
    for kind in SHAPES:
        same = [s for s in sh if s["shape"] == kind]
        if len(same) == 1:
            qa.append((f"what colour is the {kind} ?", same[0]["colour"]))
    for s in sh:
        qa.append((f"what shape is the {s['colour']} one ?", s["shape"]))
    for a in sh:
        for b in sh:
            if a is not b:
                ans = "yes" if a["x"] < b["x"] else "no"
                qa.append((f"is the {a['colour']} {a['shape']} left of the {b['colour']} {b['shape']} ?", ans))
    for c in COLOUR_NAMES:
        if not any(s["colour"] == c for s in sh):
            qa.append((f"is there a {c} shape ?", "no"))
        else:
            qa.append((f"is there a {c} shape ?", "yes"))
    return qa


def is_test_seed(seed: int) -> bool:
    """Held-out scenes: seeds whose value mod 10 is 9 are never trained on."""
    return seed % 10 == 9
