"""PyTorch reference for the fusion-network CV benchmark (bench/engine/fusion-cv.ts). Prints one JSON line.

    /usr/bin/python3 bench/engine/torch_fusion_cv.py <export dir> [--threads N]

Reads the folds fusion-cv.ts exported (the protocol's prepared inputs, so both sides train on identical arrays) and
trains the same network with the same schedule: per branch Dense (He normal, zero bias) → BatchNorm (ε 1e-3,
Keras momentum 0.99 = PyTorch momentum 0.01) → ReLU → Dropout; branches concatenated in input order; head blocks;
Dense(classes) with Glorot-uniform weights; cross-entropy with the same label smoothing (PyTorch's
label_smoothing is Keras' y·(1 − s) + s/K); AdamW with weight decay on the kernels only (as lib/train's adamw);
the same batch size and epochs, a reshuffle every epoch, the last partial batch kept, no early stopping. Like
lib/train's fit, each step reads the loss and the batch predictions back, and each epoch computes the training
accuracy and macro-F1; after training, the test fold is predicted in inference mode. The timed part is training +
test evaluation of every fold, after a one-epoch warm-up.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn


def read(directory, name, dtype, width=None):
    values = np.fromfile(os.path.join(directory, name), dtype=dtype)
    return torch.from_numpy(values.reshape(-1, width) if width else values)


def block(inputs, units, dropout):
    layers = []
    for u in units:
        linear = nn.Linear(inputs, u)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.BatchNorm1d(u, eps=1e-3, momentum=0.01), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        inputs = u
    return nn.Sequential(*layers), inputs


class FusionNet(nn.Module):
    def __init__(self, widths, units, head, classes, dropout):
        super().__init__()
        branches = []
        fused = 0
        for width, u in zip(widths, units):
            branch, out = block(width, u, dropout)
            branches.append(branch)
            fused += out
        self.branches = nn.ModuleList(branches)
        self.head, out = block(fused, head, dropout)
        self.output = nn.Linear(out, classes)
        nn.init.xavier_uniform_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(self, inputs):
        return self.output(self.head(torch.cat([b(x) for b, x in zip(self.branches, inputs)], 1)))


def macro_f1(y, p, classes):
    scores = []
    for c in range(classes):
        tp = int(((p == c) & (y == c)).sum())
        fp = int(((p == c) & (y != c)).sum())
        fn = int(((p != c) & (y == c)).sum())
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / classes


def train_fold(manifest, directory, f, epochs, generator):
    fold = manifest["folds"][f]
    inputs = manifest["inputs"]
    net_spec = manifest["network"]
    config = manifest["config"]
    widths = [fold["dims"][name] for name in inputs]
    units = [net_spec[name] for name in inputs]
    classes = fold["classes"]
    x = [read(directory, f"fold{f}-train-{n}.f32", np.float32, w) for n, w in zip(inputs, widths)]
    y = read(directory, f"fold{f}-train-y.i32", np.int32).long()
    tx = [read(directory, f"fold{f}-test-{n}.f32", np.float32, w) for n, w in zip(inputs, widths)]
    ty = read(directory, f"fold{f}-test-y.i32", np.int32).long()
    model = FusionNet(widths, units, net_spec["head"], classes, config["dropout"])
    opt = config["optimizer"]
    kernels = [p for p in model.parameters() if p.dim() >= 2]
    others = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": kernels, "weight_decay": opt.get("weightDecay", 0.01)}, {"params": others, "weight_decay": 0.0}],
        lr=opt["lr"],
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config["labelSmoothing"])
    n = y.shape[0]
    batch = config["batchSize"]
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=generator)
        seen_y, seen_p, loss_sum = [], [], 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            optimizer.zero_grad()
            out = model([t[idx] for t in x])
            loss = loss_fn(out, y[idx])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
            seen_y.append(y[idx])
            seen_p.append(out.argmax(1))
        sy, sp = torch.cat(seen_y), torch.cat(seen_p)
        _ = (loss_sum / n, float((sy == sp).float().mean()), macro_f1(sy, sp, classes))
    model.eval()
    with torch.no_grad():
        predicted = torch.softmax(model(tx), 1).argmax(1)
    return float((predicted == ty).float().mean()), macro_f1(ty, predicted, classes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.directory, "manifest.json")) as fh:
        manifest = json.load(fh)
    torch.manual_seed(manifest["seed"])
    generator = torch.Generator().manual_seed(manifest["seed"])
    epochs = manifest["config"]["epochs"]
    train_fold(manifest, args.directory, 0, 1, generator)  # warm-up
    started = time.perf_counter()
    folds = [train_fold(manifest, args.directory, f, epochs, generator) for f in range(len(manifest["folds"]))]
    seconds = time.perf_counter() - started
    print(json.dumps({
        "value": seconds,
        "unit": "s",
        "accuracyMean": sum(a for a, _ in folds) / len(folds),
        "macroF1Mean": sum(m for _, m in folds) / len(folds),
        "folds": [{"accuracy": a, "macroF1": m} for a, m in folds],
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
