"""testdata/pipeline.json: end-to-end cases computed with the PyTorch model over a noiseless channel
(no noise, no quantiser, mask all ones, state [40, 0]) so a runtime can check its glue code: tokenizer,
instruction ids, stream wiring and greedy read-out must give the same ids and strings."""

import numpy as np
import torch

from data import scenes
from data.fashion import LABELS, FashionMNIST
from data.tokenizer import instruction_tokens, split
from pipeline import instr_ids, text_ids


@torch.no_grad()
def pipeline_cases(model, tok, V) -> dict:
    st = lambda b: torch.tensor([[40.0, 0.0]] * b)  # noqa: E731

    def chan(tokens, private=False):
        pre = "private_" if private and model.cfg.get("private_coder") else ""
        x = model.stages[pre + "channel_encoder"](tokens, st(tokens.shape[0]))
        return model.stages[pre + "channel_decoder"](x, torch.ones_like(x), st(tokens.shape[0]))

    cases = []
    for k in range(3):
        seed = 9 + 10 * k
        s = scenes.generate(seed)
        img = torch.from_numpy(scenes.render(s).transpose(2, 0, 1).astype(np.float32) / 255.0)[None]
        pub = model.public_encoder(model.image_encoder(img))
        src = model.private_source(img, pub)  # the private stream's trunk where the model has one
        for task, q in [("caption", ""), ("answer", scenes.questions(s)[0][0])]:
            ins = instr_ids(V, task, [q])
            lg = model.task_decoder(chan(model.private_encoder(src, ins), True), ins)[0]
            out = lg.argmax(-1)
            cases.append({"kind": "scene", "seed": seed, "task": task, "query": q,
                          "maxLogits": lg.max(-1).values.tolist(),
                          "instructionTokens": ["<bos>"] + instruction_tokens(task, q) + ["<eos>"],
                          "instr": ins[0].tolist(), "outputIds": out.tolist(),
                          "output": " ".join(V["output"].decode(out)), "groundTruth":
                          scenes.caption(s) if task == "caption" else scenes.questions(s)[0][1]})
        rec = model.image_decoder(chan(pub), torch.tensor([8, 8]))
        cases.append({"kind": "scene", "seed": seed, "task": "reconstruct",
                      "mse": float(((rec - img) ** 2).mean())})
    fm = FashionMNIST().test(2)
    for i in range(2):
        img = torch.from_numpy(fm["image"][i : i + 1])
        ins = instr_ids(V, "classify", [""])
        out = model.task_decoder(chan(model.private_encoder(model.private_source(img), ins), True), ins)[0].argmax(-1)
        cases.append({"kind": "fashion-mnist-t10k", "index": i, "task": "classify", "instr": ins[0].tolist(),
                      "outputIds": out.tolist(), "output": " ".join(V["output"].decode(out)),
                      "groundTruth": LABELS[int(fm["label"][i])]})
    # the last one has words a word-level vocabulary lacks and a word-piece one spells in pieces
    for sent in ["The quick brown fox jumps over the lazy dog.", "Don't panic!",
                 "Zygomorphic quasars unfurl xylophones, 1729 times.",
                 "Se\u00f1or \u00d8rsted's cafe\u0301_bar costs 5\u20ac."]:  # non-ASCII words; a decomposed é
        ids = text_ids(V, [sent])
        lg = model.text_decoder(chan(model.public_encoder(model.text_encoder(ids))))[0]
        out = lg.argmax(-1)
        cases.append({"maxLogits": lg.max(-1).values.tolist(), "kind": "text", "task": "transmit", "text": sent,
                      "words": split(sent), "tokens": V["text"].tokenize(split(sent)), "ids": ids[0].tolist(),
                      "outputIds": out.tolist(), "output": " ".join(V["text"].detokenize(V["text"].decode(out)))})
    return {"channel": "noiseless: state [40, 0], mask all ones, no quantiser", "cases": cases}
