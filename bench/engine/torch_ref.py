"""PyTorch reference for bench/engine (same shapes as bench/engine/ours.ts). Prints one JSON line.

    /usr/bin/python3 bench/engine/torch_ref.py mobilenet|smallcnn|embed-all [--runs 5] [--threads N]
       [--data-dir DIR]

Needs Debian's python3-torch and python3-torchvision:
    apt-get install -y --no-install-recommends python3-torch python3-torchvision
"""
import argparse
import csv
import json
import os
import resource
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from PIL import Image


def mobilenet(runs):
    # Same architecture and FLOPs as the tfjs MobileNetV2 (weights do not change the speed).
    model = torchvision.models.mobilenet_v2()
    model.classifier = nn.Identity()  # features → global average pool → 1280-d
    model.eval()
    gen = torch.Generator().manual_seed(1)
    pixels = torch.rand(32, 3, 224, 224, generator=gen) * 255

    def once():
        start = time.perf_counter()
        with torch.no_grad():
            out = model((pixels - 128) / 128)
            out.numpy()
        return time.perf_counter() - start

    once()
    once()
    seconds = [once() for _ in range(runs)]
    return {"value": 32 / statistics.median(seconds), "unit": "img/s", "samples": [32 / s for s in seconds]}


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16, eps=1e-3, momentum=0.01)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.dense = nn.Linear(32, 3)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = nn.functional.max_pool2d(h, 2)
        h = torch.relu(self.conv2(h))
        return self.dense(h.mean(dim=(2, 3)))


def small_cnn(runs):
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(256, 3, 64, 64, generator=gen) * 2 - 1
    y = torch.randint(0, 3, (256,), generator=gen)
    model = SmallCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        start = time.perf_counter()
        model.train()
        order = torch.randperm(256, generator=gen)
        for i in range(0, 256, 32):
            idx = order[i:i + 32]
            optimizer.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            loss.item()
        return time.perf_counter() - start

    epoch()
    seconds = [epoch() for _ in range(runs)]
    return {"value": statistics.median(seconds), "unit": "s/epoch", "samples": seconds}


def embed_all(data_dir):
    started = time.perf_counter()
    with open(os.path.join(data_dir, "poi_dataset.csv"), newline="", encoding="utf-8") as f:
        files = [os.path.join(data_dir, row["main_image_path"]) for row in csv.DictReader(f)]
    model = torchvision.models.mobilenet_v2()
    model.classifier = nn.Identity()
    model.eval()
    rows = []
    with torch.no_grad():
        for i in range(0, len(files), 32):
            batch = []
            for file in files[i:i + 32]:
                image = Image.open(file).convert("RGB").resize((224, 224), Image.BICUBIC)
                batch.append(np.asarray(image, dtype=np.float32))
            pixels = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2)
            rows.append(model((pixels - 128) / 128).numpy())
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "embeddings.npy"), np.concatenate(rows))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"value": seconds, "unit": "s", "images": len(files), "peakRssMb": peak_mb}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["mobilenet", "smallcnn", "embed-all"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.which == "mobilenet":
        result = mobilenet(args.runs)
    elif args.which == "smallcnn":
        result = small_cnn(args.runs)
    else:
        result = embed_all(args.data_dir)
    result.update({"torch": torch.__version__, "threads": torch.get_num_threads()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
